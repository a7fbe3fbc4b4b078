"""SQLite's STDDEV_POP in float arithmetic, fast enough for the report at 400k results.

Django registers STDDEV_POP on SQLite as a Python aggregate finalised by statistics.pstdev, which
computes in exact fractions: about 4 s of the 20-critic report over 442,320 results. This one
keeps the list the same way and finalises in two float passes (math.fsum): the same figure to
about 1e-16 (tests/test_bulk_paths.py holds it to numpy's population std), same query, same SQL.
PostgreSQL's own stddev_pop is untouched.
"""

from __future__ import annotations

import math

from django.db.backends.signals import connection_created


class PopulationStd(list):
    step = list.append

    def finalize(self) -> float | None:
        values = [v for v in self if v is not None]  # like every SQL aggregate, NULLs skipped
        if not values:
            return None
        mean = math.fsum(values) / len(values)
        return math.sqrt(math.fsum((v - mean) * (v - mean) for v in values) / len(values))


def _register(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("STDDEV_POP", 1, PopulationStd)


def install() -> None:
    connection_created.connect(_register, dispatch_uid="metajudge.sqlite_stats")
