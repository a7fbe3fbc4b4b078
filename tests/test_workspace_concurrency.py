"""Real concurrent claims and saves: threads with their own database connections.

Meaningful on PostgreSQL (row locks, READ COMMITTED); on SQLite the writers serialise on the
database lock, which the same assertions also hold for.
"""

import threading

import pytest
from django.db import connection, connections

from annotate.models import Checklist
from annotate.selectors import claimable_pairs
from annotate.services.assignments import checklist_claim_next
from annotate.services.checklists import ChecklistConflict, checklist_save
from tests.factories import PairFactory, UserFactory, join

N_CLAIMERS = 8


def run_together(target, args_list):
    barrier = threading.Barrier(len(args_list))
    results, errors = [None] * len(args_list), []

    def worker(i, args):
        try:
            barrier.wait()
            results[i] = target(*args)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_share_a_slot(alpha):
    if connection.vendor == "sqlite":
        pytest.skip("needs a server database for truly concurrent writers")
    alpha.checklists_per_pair = 2
    alpha.save()
    pairs = [PairFactory(dataset=alpha) for _ in range(3)]
    Checklist.objects.create(pair=pairs[0], slot=0)  # an ownerless to-do row, like HelpSteer3
    users = [UserFactory(username=f"racer{i}") for i in range(N_CLAIMERS)]
    join(alpha, *users)

    def claim(user):
        checklist = checklist_claim_next(user=user, pairs=claimable_pairs(user))
        return (checklist.pair_id, checklist.slot) if checklist else None

    results, errors = run_together(claim, [(u,) for u in users])
    assert not errors
    taken = [r for r in results if r]
    assert len(taken) == len(set(taken)) == 6  # 3 pairs x 2 slots, each held once
    assert results.count(None) == N_CLAIMERS - 6
    assert Checklist.objects.filter(owner__isnull=False).count() == 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_one_wins_one_conflicts(alpha, annotator):
    if connection.vendor == "sqlite":
        pytest.skip("needs a server database for truly concurrent writers")
    pair = PairFactory(dataset=alpha)
    checklist = Checklist.objects.create(pair=pair, slot=0, owner=annotator)

    def write(text):
        try:
            checklist_save(checklist_id=checklist.pk, user=annotator, atoms=[text], version=0)
            return "saved"
        except ChecklistConflict:
            return "conflict"

    results, errors = run_together(write, [("from tab A",), ("from tab B",)])
    assert not errors
    assert sorted(results) == ["conflict", "saved"]
    checklist.refresh_from_db()
    assert checklist.version == 1 and checklist.revisions.count() == 1
