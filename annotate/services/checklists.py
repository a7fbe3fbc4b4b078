"""Checklist writes. Every save is a new revision; the version column is the optimistic lock."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotate import signals
from annotate.models import Checklist, ChecklistRevision
from annotate.services.assignments import claim_deadline

MAX_ATOMS = 50
MAX_ATOM_CHARS = 1000


class ChecklistConflict(Exception):
    """Someone saved a newer revision than the one the editor started from."""

    def __init__(self, checklist: Checklist, mine: list[str]) -> None:
        super().__init__(f"checklist {checklist.pk} is at version {checklist.version}")
        self.checklist = checklist
        self.mine = mine


class ClaimLost(PermissionDenied):
    """The user no longer holds this checklist (never held it, or the claim was taken over)."""


@dataclass(frozen=True)
class SaveResult:
    checklist: Checklist
    created: bool  # False when the atoms were already the current ones


def clean_atoms(atoms: list[str]) -> list[str]:
    """One claim per line: trimmed, inner whitespace collapsed, empty atoms dropped."""
    cleaned = [" ".join(str(a).split()) for a in atoms]
    cleaned = [a for a in cleaned if a]
    if len(cleaned) > MAX_ATOMS:
        raise ValidationError(f"A checklist holds at most {MAX_ATOMS} atoms.")
    too_long = [i for i, a in enumerate(cleaned, 1) if len(a) > MAX_ATOM_CHARS]
    if too_long:
        raise ValidationError(f"Atom {too_long[0]} is over {MAX_ATOM_CHARS} characters.")
    return cleaned


def _editable(checklist: Checklist, user) -> None:
    if checklist.owner_id != user.pk:
        raise ClaimLost("This checklist is not assigned to you (any more).")
    if checklist.status not in Checklist.EDITABLE_STATUSES:
        raise PermissionDenied("This checklist was submitted; a reviewer can send it back.")


@transaction.atomic
def checklist_save(
    *,
    checklist_id: int,
    user,
    atoms: list[str],
    version: int,
    source: str = "edit",
    as_reviewer: bool = False,
) -> SaveResult:
    """Save atoms as a new revision if `version` is still current, else raise ChecklistConflict.

    `as_reviewer`: a reviewer's fix of a checklist they do not hold (the API's reference
    checklist); its status and claim stay as they are. The caller checks the role."""
    atoms = clean_atoms(atoms)
    # No select_related: after waiting for the lock, PostgreSQL re-reads only the locked row, so
    # the current revision is fetched by a later statement that sees the committed winner.
    checklist = Checklist.objects.select_for_update().get(pk=checklist_id)
    if not as_reviewer:
        _editable(checklist, user)
    if checklist.atoms == atoms and source in ("edit", "api"):
        return SaveResult(checklist, created=False)
    if checklist.version != version:
        raise ChecklistConflict(checklist, atoms)
    status = checklist.status if checklist.status == "sent_back" else Checklist.Status.IN_PROGRESS
    status = checklist.status if as_reviewer else status
    # Compare-and-swap on the version: on SQLite select_for_update is a no-op, so the WHERE
    # clause is what stops two writers who both read the same version.
    updated = Checklist.objects.filter(pk=checklist.pk, version=version).update(
        version=F("version") + 1,
        status=status,
        claim_expires_at=checklist.claim_expires_at if as_reviewer else claim_deadline(),
        updated_at=timezone.now(),
    )
    if not updated:
        checklist.refresh_from_db()
        raise ChecklistConflict(checklist, atoms)
    revision = ChecklistRevision.objects.create(
        checklist=checklist, number=version + 1, atoms=atoms, author=user, source=source
    )
    Checklist.objects.filter(pk=checklist.pk).update(current=revision)
    transaction.on_commit(
        lambda: signals.checklist_revised.send(sender=Checklist, pair_id=checklist.pair_id)
    )
    checklist.refresh_from_db()
    return SaveResult(checklist, created=True)


@transaction.atomic
def checklist_restore(*, checklist_id: int, user, number: int, version: int) -> SaveResult:
    """Make an old revision current again, as a new revision (history is never rewritten)."""
    old = ChecklistRevision.objects.filter(checklist_id=checklist_id, number=number).first()
    if old is None:
        raise ValidationError(f"No revision {number}.")
    return checklist_save(
        checklist_id=checklist_id,
        user=user,
        atoms=list(old.atoms),
        version=version,
        source="restore",
    )


@transaction.atomic
def checklist_submit(
    *, checklist_id: int, user, atoms: list[str] | None = None, version: int
) -> Checklist:
    """Save the last edits (if any) and hand the checklist to review."""
    if atoms is not None:
        checklist = checklist_save(
            checklist_id=checklist_id, user=user, atoms=atoms, version=version
        ).checklist
    else:
        checklist = Checklist.objects.select_for_update().get(pk=checklist_id)
        _editable(checklist, user)
    if not checklist.atoms:
        raise ValidationError("Write at least one atom before submitting.")
    Checklist.objects.filter(pk=checklist.pk).update(
        status=Checklist.Status.SUBMITTED,
        submitted_at=timezone.now(),
        claim_expires_at=None,
        updated_at=timezone.now(),
    )
    checklist.refresh_from_db()
    return checklist
