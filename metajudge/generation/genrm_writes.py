"""Write a batch of generation outcomes: judgments upserted on (pair, critic), item states,
run counters. A judgment whose atoms or label changed makes its critic's matches stale. A failed
call never replaces a good judgment: the failure is kept on the item (cause and time)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from metajudge.generation.atomize import suggestions_add
from metajudge.generation.genrm_calls import Outcome
from metajudge.models import GenrmItem, GenrmRun, Judgment, MatchResult
from metajudge.runs import lifecycle

S = GenrmItem.Status
MAX_STORED_TEXT = 256 * 1024
JUDGMENT_FIELDS = [
    "generated_text",
    "label",
    "atoms",
    "source",
    "error",
    "tokens",
    "latency_ms",
    "updated_at",
]
ITEM_FIELDS = [
    "status",
    "error",
    "failed_at",
    "claim_token",
    "attempts",
    "prompt_tokens",
    "completion_tokens",
    "updated_at",
]


def _item_fields(item: GenrmItem, outcome: Outcome, now) -> None:
    item.status = S.ERROR if outcome.error else S.DONE
    item.error, item.claim_token, item.updated_at = outcome.error[:2000], None, now
    item.failed_at = now if outcome.error else None
    item.attempts = min(item.attempts + outcome.attempts, 32767)
    item.prompt_tokens = min(item.prompt_tokens + outcome.prompt_tokens, 2**31 - 1)
    item.completion_tokens = min(item.completion_tokens + outcome.completion_tokens, 2**31 - 1)


def write_outcomes(run: GenrmRun, batch: list[tuple[GenrmItem, Outcome]]) -> None:
    if not batch:
        return
    now = timezone.now()
    with transaction.atomic():
        tokens = {item.pk: item.claim_token for item, _ in batch}
        keep = lifecycle.held(GenrmItem.objects.all(), tokens)
        batch = [(item, outcome) for item, outcome in batch if item.pk in keep]
        for item, outcome in batch:
            _item_fields(item, outcome, now)
        if run.kind == GenrmRun.Kind.GENRM:
            judgments_upsert(critic_id=run.critic_id, batch=batch)
        else:
            suggestions_add(batch=[(i.pair_id, o.atoms) for i, o in batch if not o.error])
        GenrmItem.objects.bulk_update([item for item, _ in batch], ITEM_FIELDS)
        GenrmRun.objects.filter(pk=run.pk).update(
            prompt_tokens=F("prompt_tokens") + sum(o.prompt_tokens for _, o in batch),
            completion_tokens=F("completion_tokens") + sum(o.completion_tokens for _, o in batch),
            calls=F("calls") + sum(o.attempts for _, o in batch),
        )


def judgments_upsert(*, critic_id: int, batch: list[tuple[GenrmItem, Outcome]]) -> list[int]:
    """Upsert one judgment per pair; returns the pairs whose atoms or label changed. A failed
    outcome is written only where the pair has no good judgment (none, or a failed one)."""
    pair_ids = [item.pair_id for item, _ in batch]
    before = {
        pair_id: (atoms, label, error)
        for pair_id, atoms, label, error in Judgment.objects.filter(
            critic_id=critic_id, pair_id__in=pair_ids
        ).values_list("pair_id", "atoms", "label", "error")
    }
    good = {pair_id for pair_id, (_, _, error) in before.items() if not error}
    rows = [
        _judgment(critic_id, item.pair_id, outcome)
        for item, outcome in batch
        if not (outcome.error and item.pair_id in good)
    ]
    Judgment.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["pair", "critic"], update_fields=JUDGMENT_FIELDS
    )
    changed = [
        j.pair_id
        for j in rows
        if j.pair_id in before and before[j.pair_id][:2] != (j.atoms, j.label)
    ]
    if changed:
        MatchResult.objects.filter(
            run__critic_id=critic_id, pair_id__in=changed, stale=False
        ).exclude(status=MatchResult.Status.PENDING).update(stale=True)
    return changed


def _judgment(critic_id: int, pair_id: int, outcome: Outcome) -> Judgment:
    return Judgment(
        pair_id=pair_id,
        critic_id=critic_id,
        source="genrm",
        generated_text=(outcome.text or "")[:MAX_STORED_TEXT],
        label=outcome.label,
        atoms=list(outcome.atoms),
        error=outcome.error[:2000],
        tokens=outcome.prompt_tokens + outcome.completion_tokens,
        latency_ms=min(outcome.latency_ms, 2**31 - 1),
    )
