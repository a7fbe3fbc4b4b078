"""Claiming (pair, slot) work atomically.

A dataset asks for k independent checklists per pair (slots 0..k-1). A slot is free when nobody
holds it: no row yet, a row with no owner that is still to do, or an unfinished claim that has
expired. Two guards make a claim race-safe on PostgreSQL and SQLite alike: taking an existing row
is a compare-and-swap UPDATE on the "free" condition, and creating a row hits the unique
(pair, slot) and (pair, owner) constraints, so the loser moves on to the next candidate.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotate.models import AtomSuggestion, Checklist, ChecklistRevision, Pair
from annotate.selectors import free_slot_q

CANDIDATES = 8  # pairs tried per claim before giving up (each try is cheap)


def claim_ttl() -> timedelta:
    return timedelta(minutes=getattr(settings, "ANNOTATE_CLAIM_TTL_MINUTES", 120))


def claim_deadline() -> datetime:
    return timezone.now() + claim_ttl()


@transaction.atomic
def checklist_claim_next(*, user, pairs) -> Checklist | None:
    """Claim a slot on the first claimable pair of `pairs` (a queryset from the queue selector)."""
    for pair in pairs[:CANDIDATES]:
        checklist = checklist_claim(user=user, pair=pair)
        if checklist is not None:
            return checklist
    return None


@transaction.atomic
def checklist_claim(*, user, pair: Pair) -> Checklist | None:
    """Claim the lowest free slot of this pair for `user`; None when there is none for them."""
    mine = Checklist.objects.filter(pair=pair, owner=user).first()
    if mine is not None:
        return mine
    for _ in range(pair.dataset.checklists_per_pair + 1):
        try:
            with transaction.atomic():
                checklist = _take_free_row(user, pair) or _create_slot(user, pair)
                if checklist is None:
                    return None
                _ensure_import_suggestions(pair)
                return checklist
        except IntegrityError:
            continue  # someone took that slot (or this user raced themselves): try again
    return None


def _take_free_row(user, pair: Pair) -> Checklist | None:
    now = timezone.now()
    k = pair.dataset.checklists_per_pair
    free = Checklist.objects.filter(free_slot_q(now), pair=pair, slot__lt=k).order_by("slot")
    for checklist in free:
        taken = Checklist.objects.filter(free_slot_q(now), pk=checklist.pk).update(
            owner=user, claim_expires_at=now + claim_ttl(), updated_at=now
        )
        if taken:
            checklist.refresh_from_db()
            return checklist
    return None


def _create_slot(user, pair: Pair) -> Checklist | None:
    used = set(Checklist.objects.filter(pair=pair).values_list("slot", flat=True))
    slot = next((s for s in range(pair.dataset.checklists_per_pair) if s not in used), None)
    if slot is None:
        return None
    return Checklist.objects.create(
        pair=pair, slot=slot, owner=user, claim_expires_at=claim_deadline()
    )


def _ensure_import_suggestions(pair: Pair) -> None:
    """The imported reference checklist becomes suggestions for every other slot's editor."""
    revision = ChecklistRevision.objects.filter(
        checklist__pair=pair, checklist__slot=0, number=1, source="import"
    ).first()
    if revision is None:
        return
    AtomSuggestion.objects.bulk_create(
        [
            AtomSuggestion(pair=pair, text=text, source=AtomSuggestion.Source.IMPORT, position=i)
            for i, text in enumerate(revision.atoms)
            if text.strip()
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def checklist_release(*, checklist_id: int, user) -> None:
    """Give an unfinished claim back; the drafts stay in the revision history."""
    Checklist.objects.filter(
        pk=checklist_id,
        owner=user,
        status__in=[Checklist.Status.TODO, Checklist.Status.IN_PROGRESS],
    ).update(claim_expires_at=timezone.now() - timedelta(seconds=1))
