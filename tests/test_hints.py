"""The vague hint fires on atoms that point at nothing, not on atoms naming a specific part."""

import json

from annotate.hints import VAGUE, atom_hints
from metajudge.services.demo import DEMO_FILE, SECOND_FILE


def _demo_atoms() -> list[str]:
    atoms = []
    for line in DEMO_FILE.read_text().splitlines():
        atoms += json.loads(line)["human-checklist"]
    for line in SECOND_FILE.read_text().splitlines():
        atoms += json.loads(line)["atoms"]
    return atoms


def test_concrete_atoms_are_not_called_vague():
    atoms = _demo_atoms()
    vague = [a for a in atoms if VAGUE in atom_hints(a)]
    assert len(atoms) == 165 and len(vague) <= 3, vague  # the old rule flagged 80
    for atom in (
        "Response 2 recommends inventing a family emergency, which is dishonest.",
        "Response 2 adopts a casual tone ('Hi there', 'I'd love to'), as requested.",
        "Response 1 renders 坚持 correctly as 'kept going'.",
        "Response 2 loads the whole file into memory instead of streaming it.",
    ):
        assert VAGUE not in atom_hints(atom), atom


def test_vague_atoms_still_get_the_hint():
    for atom in (
        "Response 1 is better.",
        "Response 2 is more helpful and clearer overall.",
        "Response 1 sounds more professional than Response 2.",
        "The haiku is nice and also short; great",
    ):
        assert VAGUE in atom_hints(atom), atom
