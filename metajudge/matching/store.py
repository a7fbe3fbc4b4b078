"""Result rows written back in batches: the fields a chunk fills in, one statement per batch.

On PostgreSQL that is one INSERT .. ON CONFLICT DO UPDATE, whose rows Django sends as one array
per column (UNNEST). On SQLite it is one UPDATE .. WHERE id = ? run by sqlite3's executemany:
the upsert there is a statement per few dozen rows, each compiled by Django from every field of
every row, which cost about 1 ms a result on the thread that shares the GIL with the calls."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def write_fields(model: type[Model], rows: Sequence[Model], names: Sequence[str]) -> None:
    """Store `names` of `rows` (instances already in the table, saved by primary key)."""
    if not rows:
        return
    if connection.vendor != "sqlite":
        model.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["pk"], update_fields=list(names)
        )
        return
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    pk = model._meta.pk
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
