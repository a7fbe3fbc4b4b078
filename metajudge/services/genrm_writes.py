"""Write a batch of generation outcomes: judgments upserted on (pair, critic), item states,
run counters. A judgment whose atoms or label changed makes its critic's matches stale."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from metajudge.models import GenrmItem, GenrmRun, Judgment, MatchResult
from metajudge.services.atomize import suggestions_add
from metajudge.services.genrm_calls import Outcome

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
ITEM_FIELDS = ["status", "error", "claim_token", "attempts", "updated_at"]


def write_outcomes(run: GenrmRun, batch: list[tuple[GenrmItem, Outcome]]) -> None:
    if not batch:
        return
    now = timezone.now()
    for item, outcome in batch:
        item.status = S.ERROR if outcome.error else S.DONE
        item.error, item.claim_token, item.updated_at = outcome.error[:2000], None, now
        item.attempts = min(item.attempts + outcome.attempts, 32767)
    with transaction.atomic():
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
    """Upsert one judgment per pair; returns the pairs whose atoms or label changed."""
    pair_ids = [item.pair_id for item, _ in batch]
    before = {
        pair_id: (atoms, label)
        for pair_id, atoms, label in Judgment.objects.filter(
            critic_id=critic_id, pair_id__in=pair_ids
        ).values_list("pair_id", "atoms", "label")
    }
    rows = [_judgment(critic_id, item.pair_id, outcome) for item, outcome in batch]
    Judgment.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["pair", "critic"], update_fields=JUDGMENT_FIELDS
    )
    changed = [
        j.pair_id for j in rows if j.pair_id in before and before[j.pair_id] != (j.atoms, j.label)
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
