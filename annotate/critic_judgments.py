"""The seam to the critics and their judgments that come with imported records (RationaleRM's
`{critic}-label`, `{critic}-checklist`, `{critic}-generated_text`).

Their models belong to metajudge, which sits above annotate in the layers. metajudge registers
them here in MetajudgeConfig.ready(), so annotate's importers, exports and pages reach them
without importing metajudge. The models are used as they are, in the caller's transaction (an
import stays all-or-nothing)."""

from __future__ import annotations

_registered: dict[str, type] = {}


def register(*, critic: type, judgment: type) -> None:
    _registered["critic"], _registered["judgment"] = critic, judgment


def _get(kind: str) -> type:
    try:
        return _registered[kind]
    except KeyError:
        raise RuntimeError(
            f"no {kind} model registered: the metajudge app registers it in its ready()"
        ) from None


def critic_model() -> type:
    """The critic model (name unique): a GenRM or an LLM judge being judged."""
    return _get("critic")


def judgment_model() -> type:
    """A critic's decision on a pair (pair, critic, generated_text, label, atoms, source)."""
    return _get("judgment")
