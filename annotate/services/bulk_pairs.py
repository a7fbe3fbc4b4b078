"""Set-based writes for big pair imports: rows go to a staging table, then a few INSERT ... SELECT.

Django's bulk_create spends most of an import compiling SQL (a prepared value per field per row);
here each record becomes one tuple. On PostgreSQL the tuples stream through COPY (psycopg 3); on
SQLite through executemany. The statements after the staging step are the same on both, run inside
the caller's transaction, so an import stays all-or-nothing.
"""

from __future__ import annotations

import json

from django.db import connection, reset_queries, transaction
from django.utils import timezone

from annotate import critic_judgments
from annotate.models import Checklist, ChecklistRevision, Pair
from annotate.records import Record

FLUSH_ROWS = 1000
CONTENT_COLUMNS = (
    "key",
    "position",
    "external_id",
    "domain",
    "language",
    "context",
    "response_1",
    "response_2",
    "preference",
    "preference_strength",
    "human_reasons",
    "golden_judgment",
    "source_format",
    "raw_json",
)
JSON_COLUMNS = ("context", "human_reasons")  # staged as text, jsonb in the pair table
CHECKLIST_COLUMNS = ("key", "human_atoms", "checklist_status", "checklist_version")
JUDGMENT_COLUMNS = ("key", "critic_id", "atoms", "label", "generated_text")
STAGE_PAIR = "ra_stage_pair"
STAGE_JUDGMENT = "ra_stage_judgment"
# Plain strings: psycopg would write an Enum member by its name.
SUBMITTED, TODO = str(Checklist.Status.SUBMITTED.value), str(Checklist.Status.TODO.value)


def _stage_ddl() -> list[str]:
    return [
        f"DROP TABLE IF EXISTS {STAGE_PAIR}",
        f"DROP TABLE IF EXISTS {STAGE_JUDGMENT}",
        f"CREATE TEMP TABLE {STAGE_PAIR} (key text, position integer, external_id text, "
        "domain text, language text, context text, response_1 text, response_2 text, "
        "preference smallint, preference_strength smallint, human_reasons text, "
        "golden_judgment text, source_format text, raw_json text, human_atoms text, "
        "checklist_status text, checklist_version integer)",
        f"CREATE TEMP TABLE {STAGE_JUDGMENT} (key text, critic_id bigint, atoms text, "
        "label smallint, generated_text text)",
    ]


class PairStage:
    """Stages normalized records, then writes pairs, checklists, revisions and judgments for the
    keys the dataset does not hold yet.

    PostgreSQL: every column goes through COPY into the staging table and on to the pair table by
    INSERT ... SELECT ... ON CONFLICT. SQLite has no COPY to win from and pays for every byte
    twice, so there the pair rows go straight to their table and only the small columns are staged.
    """

    def __init__(self, dataset_id: int) -> None:
        self.dataset_id = dataset_id
        self.postgres = connection.vendor == "postgresql"
        self.now = connection.ops.adapt_datetimefield_value(timezone.now())
        last = (
            Pair.objects.filter(dataset_id=dataset_id)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        self.position = last or 0
        # A dataset with no pairs yet holds none of the keys: no lookup per batch (a key that a
        # concurrent import writes meanwhile is still skipped by ON CONFLICT, and counted).
        self.empty = last is None
        self.pending: list[tuple] = []
        self.present = 0
        self.created = 0
        self.staged = 0
        self.pairs: list[tuple] = []
        self.checklists: list[tuple] = []
        self.judgments: list[tuple] = []
        with connection.cursor() as cursor:
            if self.postgres:
                _prefer_lz4(cursor)
            for sql in _stage_ddl():
                cursor.execute(sql)

    def add(self, record: Record, text: str, critic_ids: dict[str, int]) -> None:
        self.pending.append((record, text, critic_ids))
        if len(self.pending) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Stage the pending records whose keys the dataset lacks (a re-import stages nothing)."""
        if self.pending:
            keys = [record.key for record, _, _ in self.pending]
            present = (
                set()
                if self.empty
                else set(
                    Pair.objects.filter(dataset_id=self.dataset_id, key__in=keys).values_list(
                        "key", flat=True
                    )
                )
            )
            self.present += len(present)
            for record, text, critic_ids in self.pending:
                if record.key not in present:
                    self._row(record, text, critic_ids)
            self.pending = []
        if self.postgres:
            self._copy(STAGE_PAIR, CONTENT_COLUMNS + CHECKLIST_COLUMNS[1:], self.pairs)
        else:
            self._insert_pairs()
            self._copy(STAGE_PAIR, CHECKLIST_COLUMNS, self.checklists)
        self._copy(STAGE_JUDGMENT, JUDGMENT_COLUMNS, self.judgments)
        self.pairs, self.checklists, self.judgments = [], [], []
        reset_queries()  # under DEBUG the query log would otherwise hold every batch

    def _row(self, record: Record, text: str, critic_ids: dict[str, int]) -> None:
        atoms = record.human_atoms
        self.position += 1
        self.staged += 1
        checklist = (
            None if atoms is None else json.dumps(atoms),
            SUBMITTED if atoms else TODO,
            0 if atoms is None else 1,
        )
        self.pairs.append(
            (
                record.key,
                self.position,
                record.external_id,
                record.domain,
                record.language,
                json.dumps(record.context),
                record.response_1,
                record.response_2,
                record.preference,
                record.preference_strength,
                json.dumps(record.human_reasons),
                record.golden_judgment,
                record.source_format,
                text,
            )
            + (checklist if self.postgres else ())
        )
        self.checklists.append((record.key, *checklist))
        for name, fields in record.critics.items():
            self.judgments.append(
                (
                    record.key,
                    critic_ids[name],
                    json.dumps(fields.atoms or []),
                    fields.label,
                    fields.generated_text,
                )
            )

    def _copy(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                    for row in rows:
                        cp.write_row(row)
            else:
                marks = ", ".join("%s" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )

    def _insert_pairs(self) -> None:
        if not self.pairs:
            return
        columns = ("dataset_id", "created_at", *CONTENT_COLUMNS)
        marks = ", ".join("%s" for _ in columns)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {Pair._meta.db_table} ({', '.join(columns)}) VALUES ({marks}) "
                "ON CONFLICT DO NOTHING",
                [(self.dataset_id, self.now, *row) for row in self.pairs],
            )
            self.created += cursor.rowcount

    def write(self) -> tuple[int, int]:
        """Insert what is new; return (created, already present)."""
        self.flush()
        with connection.cursor() as cursor:
            # Without it SQLite joins the staged rows by scanning them once per written row.
            cursor.execute(f"CREATE INDEX ra_stage_pair_key ON {STAGE_PAIR} (key)")
            for sql, params in self._inserts():
                cursor.execute(sql, params)
                if sql.startswith(f"INSERT INTO {Pair._meta.db_table} "):
                    self.created += cursor.rowcount
            cursor.execute(f"DROP TABLE {STAGE_PAIR}")
            cursor.execute(f"DROP TABLE {STAGE_JUDGMENT}")
        if self.postgres and self.created:
            transaction.on_commit(analyze_imported)
        # A staged key that another import wrote meanwhile is skipped by ON CONFLICT: present.
        return self.created, self.present + self.staged - self.created

    def _inserts(self) -> list[tuple[str, list]]:
        now, js = self.now, "::jsonb" if self.postgres else ""
        pair, checklist = Pair._meta.db_table, Checklist._meta.db_table
        revision = ChecklistRevision._meta.db_table
        judgment = critic_judgments.judgment_model()._meta.db_table
        joined = f"{STAGE_PAIR} s JOIN {pair} p ON p.dataset_id = %s AND p.key = s.key"
        statements = [
            (
                f"INSERT INTO {pair} (dataset_id, created_at, {', '.join(CONTENT_COLUMNS)}) "
                f"SELECT %s, %s, {', '.join(_cast(c) for c in CONTENT_COLUMNS)} FROM {STAGE_PAIR} "
                "WHERE true ON CONFLICT DO NOTHING",
                [self.dataset_id, now],
            )
        ]
        return (statements if self.postgres else []) + [
            (
                f"INSERT INTO {checklist} (pair_id, slot, status, version, updated_at) "
                f"SELECT p.id, 0, s.checklist_status, s.checklist_version, %s FROM {joined} "
                "WHERE true ON CONFLICT DO NOTHING",
                [now, self.dataset_id],
            ),
            (
                f"INSERT INTO {revision} (checklist_id, number, atoms, source, created_at) "
                f"SELECT c.id, 1, s.human_atoms{js}, 'import', %s FROM {joined} "
                f"JOIN {checklist} c ON c.pair_id = p.id AND c.slot = 0 "
                "WHERE s.human_atoms IS NOT NULL ON CONFLICT DO NOTHING",
                [now, self.dataset_id],
            ),
            (
                f"UPDATE {checklist} SET current_id = r.id FROM {revision} r, {joined} "
                f"WHERE r.checklist_id = {checklist}.id AND r.number = 1 "
                f"AND {checklist}.pair_id = p.id AND {checklist}.slot = 0 "
                f"AND {checklist}.current_id IS NULL",
                [self.dataset_id],
            ),
            (
                f"INSERT INTO {judgment} (pair_id, critic_id, generated_text, label, atoms, "
                "source, error, tokens, latency_ms, created_at, updated_at) "
                f"SELECT p.id, j.critic_id, j.generated_text, j.label, j.atoms{js}, 'import', "
                f"'', 0, 0, %s, %s FROM {STAGE_JUDGMENT} j JOIN {STAGE_PAIR} s ON s.key = j.key "
                f"JOIN {pair} p ON p.dataset_id = %s AND p.key = s.key "
                "WHERE true ON CONFLICT DO NOTHING",
                [now, now, self.dataset_id],
            ),
        ]


def _prefer_lz4(cursor) -> None:
    """TOAST compresses every long text twice here (staging, then the table); lz4 (PostgreSQL
    14+, when built with it) does it several times faster than the default pglz. For this
    transaction only; reading is unchanged."""
    cursor.execute(
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
        "AND 'lz4' = ANY(enumvals)"
    )
    if cursor.fetchone():
        cursor.execute("SET LOCAL default_toast_compression = lz4")


def _cast(column: str) -> str:
    return f"{column}::jsonb" if column in JSON_COLUMNS else column


def analyze_imported() -> None:
    """A bulk import leaves PostgreSQL without statistics: the first list queries would sort
    whole tables. Refresh them for the tables an import fills."""
    analyzed = (Pair, Checklist, ChecklistRevision, critic_judgments.judgment_model())
    analyze_tables([model._meta.db_table for model in analyzed])


def analyze_tables(tables: list[str]) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")
