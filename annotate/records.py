"""Turn one imported JSON record into normalized fields. Pure functions, no database."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

HUMAN_KEY = "human-checklist"
CRITIC_SUFFIXES = ("-checklist", "-label", "-generated_text")
_SIDE_WORDS = {
    "1": 1,
    "a": 1,
    "response 1": 1,
    "response a": 1,
    "response_1": 1,
    "response_a": 1,
    "response1": 1,
    "responsea": 1,
    "2": 2,
    "b": 2,
    "response 2": 2,
    "response b": 2,
    "response_2": 2,
    "response_b": 2,
    "response2": 2,
    "responseb": 2,
    "tie": 0,
    "0": 0,
}


class RecordError(ValueError):
    """A record that cannot be imported; the message says why."""


@dataclass
class CriticFields:
    atoms: list[str] | None = None
    label: int | None = None
    generated_text: str = ""


@dataclass
class Record:
    key: str
    external_id: str
    source_format: str
    domain: str
    language: str
    context: list[dict]
    response_1: str
    response_2: str
    preference: int | None
    preference_strength: int | None
    human_reasons: list[str]
    golden_judgment: str
    human_atoms: list[str] | None
    critics: dict[str, CriticFields] = field(default_factory=dict)


def parse_label(value: object, *, what: str = "label") -> int:
    """1 or 2 for the better response, 0 for a tie. Accepts 1/2, "A"/"B", "Response 1", -3..3."""
    if isinstance(value, bool) or value is None:
        raise RecordError(f"{what}: expected a label, got {json.dumps(value)}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return _label_from_int(value, what)
    if isinstance(value, str):
        text = " ".join(value.strip().lower().replace("[", "").replace("]", "").split())
        if text in _SIDE_WORDS:
            return _SIDE_WORDS[text]
        try:
            return _label_from_int(int(text), what)
        except ValueError:
            pass
    raise RecordError(f"{what}: cannot read {json.dumps(value)[:60]} as Response 1 or 2")


def _label_from_int(value: int, what: str) -> int:
    if value in (1, 2):
        return value
    if -3 <= value <= -1:
        return 1
    if value == 3:
        return 2
    if value == 0:
        return 0
    raise RecordError(f"{what}: {value} is outside -3..3")


def parse_preference(value: object) -> tuple[int, int | None]:
    """HelpSteer3 overall_preference -3..3 -> (label, strength)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RecordError(f"overall_preference: expected an integer -3..3, got {json.dumps(value)}")
    try:
        number = float(value)
    except ValueError:
        return parse_label(value, what="overall_preference"), None
    if not number.is_integer() or not -3 <= number <= 3:
        raise RecordError(f"overall_preference: {value} is outside -3..3")
    strength = int(number)
    return (0 if strength == 0 else (1 if strength < 0 else 2)), strength


def detect_format(obj: dict) -> str:
    if HUMAN_KEY in obj:
        return "rationalerm"
    if "response_A" in obj or "gt_label" in obj or "conversations" in obj:
        return "ralign"
    if "overall_preference" in obj or "response1" in obj:
        return "helpsteer3"
    raise RecordError(
        "unknown format: expected RationaleRM (human-checklist), HelpSteer3 "
        "(response1, response2, overall_preference) or R-Align (response_A, response_B, gt_label)"
    )


def content_key(line: str) -> str:
    canonical = json.dumps(json.loads(line), sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _text(obj: dict, name: str, *, required: bool = True) -> str:
    value = obj.get(name)
    if value is None and not required:
        return ""
    if value is None:
        raise RecordError(f"missing field '{name}'")
    if not isinstance(value, str):
        raise RecordError(f"'{name}' must be a string, got {type(value).__name__}")
    return value


def _atoms(obj: dict, name: str) -> list[str]:
    value = obj[name]
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise RecordError(f"'{name}' must be a list of strings")
    return value


def _context(value: object, name: str) -> list[dict]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        raise RecordError(f"'{name}' must be a list of turns or a string")
    turns = []
    for turn in value:
        if not isinstance(turn, dict):
            raise RecordError(f"'{name}' turns must be objects with role and content")
        content = turn.get("content", turn.get("value", ""))
        role = turn.get("role", turn.get("from", "user"))
        if not isinstance(content, str) or not isinstance(role, str):
            raise RecordError(f"'{name}' turns need string role and content")
        turns.append({"role": role, "content": content})
    return turns


def _reasons(obj: dict) -> list[str]:
    prefs = obj.get("individual_preference") or []
    if not isinstance(prefs, list):
        raise RecordError("'individual_preference' must be a list")
    reasons = []
    for item in prefs:
        if not isinstance(item, dict):
            raise RecordError("'individual_preference' items must be objects")
        reasoning = item.get("reasoning", "")
        if not isinstance(reasoning, str):
            raise RecordError("'individual_preference[].reasoning' must be a string")
        if reasoning.strip():
            reasons.append(reasoning)
    return reasons


def critic_names(obj: dict) -> list[str]:
    names = []
    for key in obj:
        for suffix in CRITIC_SUFFIXES:
            if key.endswith(suffix) and key != HUMAN_KEY and len(key) > len(suffix):
                name = key[: -len(suffix)]
                if name not in names:
                    names.append(name)
    return names


def _critics(obj: dict) -> dict[str, CriticFields]:
    critics = {}
    for name in critic_names(obj):
        fields = CriticFields()
        if f"{name}-checklist" in obj:
            fields.atoms = _atoms(obj, f"{name}-checklist")
        label = obj.get(f"{name}-label")
        if label is not None and label != "":
            fields.label = parse_label(label, what=f"{name}-label") or None
        fields.generated_text = _text(obj, f"{name}-generated_text", required=False)
        critics[name] = fields
    return critics


def _preference(obj: dict) -> tuple[int | None, int | None]:
    if obj.get("overall_preference") is not None:
        return parse_preference(obj["overall_preference"])
    for name in ("gt_label", "label", "preference"):
        if obj.get(name) is not None:
            return parse_label(obj[name], what=name), None
    return None, None


def _identity(obj: dict, line: str) -> tuple[str, str]:
    record_id = obj.get("id")
    if record_id is None or record_id == "":
        return content_key(line), ""
    if not isinstance(record_id, str | int) or isinstance(record_id, bool):
        raise RecordError("'id' must be a string or an integer")
    record_id = str(record_id)
    if len(record_id) > 190:
        raise RecordError("'id' is longer than 190 characters")
    return record_id, record_id


def normalize(obj: object, line: str) -> Record:
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    fmt = detect_format(obj)
    key, external_id = _identity(obj, line)
    if fmt == "ralign":
        context = _context(obj.get("conversations"), "conversations")
        r1, r2 = _text(obj, "response_A"), _text(obj, "response_B")
    else:
        context = _context(obj.get("context"), "context")
        r1, r2 = _text(obj, "response1"), _text(obj, "response2")
    preference, strength = _preference(obj)
    if fmt == "helpsteer3" and preference is None:
        raise RecordError("missing field 'overall_preference'")
    if fmt == "ralign" and preference is None:
        raise RecordError("missing field 'gt_label'")
    return Record(
        key=key,
        external_id=external_id,
        source_format=fmt,
        domain=_text(obj, "domain", required=False)[:64],
        language=_text(obj, "language", required=False)[:64],
        context=context,
        response_1=r1,
        response_2=r2,
        preference=preference,
        preference_strength=strength,
        human_reasons=_reasons(obj),
        golden_judgment=_text(obj, "gt_judgment", required=False),
        human_atoms=_atoms(obj, HUMAN_KEY) if fmt == "rationalerm" else None,
        critics=_critics(obj),
    )
