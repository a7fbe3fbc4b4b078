"""Reads for the reward endpoint's hot path: one plain SQL query per request.

A training loop calls this hundreds of times a second, and compiling the equivalent ORM query
(visibility subquery plus checklist subquery) costs more than running it. The rules are those of
annotate.access.visible_datasets: superusers see every dataset, others their memberships."""

from __future__ import annotations

import json

from django.db import connection

from annotate.models import Checklist, ChecklistRevision, Dataset, Pair

_MEMBERS = Dataset.members.through._meta.db_table
_SQL = (
    f"SELECT p.id, p.preference, r.atoms FROM {Pair._meta.db_table} p "
    f"LEFT JOIN {Checklist._meta.db_table} c ON c.pair_id = p.id AND c.slot = 0 "
    f"LEFT JOIN {ChecklistRevision._meta.db_table} r ON r.id = c.current_id "
    "WHERE p.id IN ({ids})"
)
_VISIBLE = f" AND p.dataset_id IN (SELECT dataset_id FROM {_MEMBERS} WHERE user_id = %s)"


def reward_pairs(user, pair_ids: set[int]) -> dict[int, tuple[int | None, list[str]]]:
    """{pair id: (preference, current human atoms)} for the pairs this user may see."""
    if not pair_ids or not user.is_authenticated:
        return {}
    ids = sorted(pair_ids)
    sql = _SQL.format(ids=", ".join(["%s"] * len(ids)))
    params: list = list(ids)
    if not user.is_superuser:
        sql += _VISIBLE
        params.append(user.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # SQLite hands JSON back as text; PostgreSQL as a list.
    return {
        pk: (pref, json.loads(atoms) if isinstance(atoms, str) else list(atoms or []))
        for pk, pref, atoms in rows
    }
