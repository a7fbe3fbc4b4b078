"""Result rows in batches: a run's new rows, and the fields a chunk fills in, one statement per
batch.

On PostgreSQL that is one INSERT .. ON CONFLICT DO UPDATE, whose rows Django sends as one array
per column (UNNEST). On SQLite it is one UPDATE .. WHERE id = ? run by sqlite3's executemany:
the upsert there is a statement per few dozen rows, each compiled by Django from every field of
every row, which cost about 1 ms a result on the thread that shares the GIL with the calls."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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


def insert_new(
    model: type[Model],
    template: Model,
    varying: Sequence[str],
    values: Iterable[Sequence[int]],
    batch: int = 2000,
) -> None:
    """Insert one row per tuple of `values`: `template`'s fields, with the foreign keys named by
    `varying` set to the tuple's ids. A row that a unique constraint says exists is skipped (a
    re-started run keeps its results). On SQLite, as write_fields, one INSERT OR IGNORE run by
    executemany (what Django's ignore_conflicts sends there) with the template's values
    prepared once: compiling each row took about 5 s to prepare a run of 22,116 samples."""
    keys = [model._meta.get_field(name).attname for name in varying]
    if connection.vendor != "sqlite":
        rows = (model(**{**_own(template), **dict(zip(keys, ids, strict=True))}) for ids in values)
        model.objects.bulk_create(rows, ignore_conflicts=True, batch_size=batch)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    prepared = [
        field.get_db_prep_save(field.pre_save(template, True), connection) for field in fields
    ]
    slots = [next(k for k, field in enumerate(fields) if field.attname == key) for key in keys]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT OR IGNORE INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"
    rows = []
    for ids in values:
        row = list(prepared)
        for slot, value in zip(slots, ids, strict=True):
            row[slot] = value
        rows.append(row)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            cursor.executemany(sql, rows[start : start + batch])


def _own(template: Model) -> dict:
    """The template's field values by attribute name, primary key left out."""
    meta = template._meta
    return {
        f.attname: getattr(template, f.attname) for f in meta.concrete_fields if not f.primary_key
    }
