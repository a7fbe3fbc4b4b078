"""Prompt placeholders are filled in one pass: data never becomes a placeholder."""

import pytest

from metajudge.method.prompts import (
    METAJUDGE_V1,
    VERDICT_V1,
    render_atomizer,
    render_genrm,
    render_metajudge,
    render_verdict,
)


def test_human_atom_naming_the_model_placeholder_stays_literal():
    text = render_metajudge(
        METAJUDGE_V1, ["Response 1 says {model_atoms} verbatim.", "{human_atoms}"], ["S-atom"]
    )
    assert "R1: Response 1 says {model_atoms} verbatim." in text
    assert "R2: {human_atoms}" in text
    assert text.count("S1: S-atom") == METAJUDGE_V1.count("{model_atoms}")


def test_model_atom_naming_a_placeholder_stays_literal():
    text = render_metajudge("{model_atoms}|{human_atoms}", ["h"], ["{human_atoms} {x}"])
    assert text == "S1: {human_atoms} {x}|R1: h"


def test_golden_judgment_naming_the_rationale_placeholder_stays_literal():
    text = render_verdict(VERDICT_V1, "Golden says {model_rationale}.", "Critic reasons.")
    assert "Golden says {model_rationale}." in text
    assert text.count("Critic reasons.") == VERDICT_V1.count("{model_rationale}")


@pytest.mark.parametrize("value", ["{response_2}", "{conversation}", "{rationale}"])
def test_other_renderers_keep_data_literal(value):
    genrm = render_genrm("{conversation}/{response_1}/{response_2}", [], value, "two")
    assert genrm == f"/{value}/two"
    assert render_atomizer("<{rationale}>", value) == f"<{value}>"
