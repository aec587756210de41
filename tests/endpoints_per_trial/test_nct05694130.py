"""Per-trial endpoint tests: NCT05694130: ESSDAI and ESSPRI change at week 12."""

# ruff: noqa: E501 -- the parameter tables keep one row per line (# fmt: skip), however long

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.endpoints_per_trial.support import (
    SJOGREN,
    Number,
    course,
    evaluate,
    outcome,
)

pytestmark = pytest.mark.django_db


# --- NCT05694130: ESSDAI and ESSPRI change at week 12 --------------------------------------------


@pytest.mark.parametrize(
    ("code", "values", "as_of", "met", "change"),
    [
        # ESSDAI: MCII is a fall of ≥ 3 points.
        pytest.param("essdai_change_w12", [(0, 10), (84, 7)], 400, True, "-3", id="ESSDAI-fall-3"),
        pytest.param("essdai_change_w12", [(0, 10), (84, 8)], 400, False, "-2", id="ESSDAI-fall-2"),
        pytest.param("essdai_change_w12", [(0, 10), (84, 13)], 400, False, "3", id="ESSDAI-rise-3"),
        pytest.param("essdai_change_w12", [(-5, 3), (84, 0)], 400, True, "-3", id="ESSDAI-3-to-0"),
        pytest.param("essdai_change_w12", [(0, 10), (82, 9), (85, 7)], 400, True, "-3", id="ESSDAI-nearest"),
        pytest.param("essdai_change_w12", [(-20, 14), (0, 10), (84, 7)], 400, True, "-3", id="ESSDAI-latest-baseline"),
        pytest.param("essdai_change_w12", [(0, 10), (80, 5), (88, 5)], 400, False, None, id="ESSDAI-missing"),
        pytest.param("essdai_change_w12", [(0, 10)], 86, None, None, id="ESSDAI-window-open"),
        # ESSPRI: MCII is a fall of ≥ 1 point or ≥ 15 %.
        pytest.param("esspri_change_w12", [(0, 6), (84, 5)], 400, True, "-1", id="ESSPRI-fall-1"),
        pytest.param("esspri_change_w12", [(0, 6), (84, "5.1")], 400, True, "-0.9", id="ESSPRI-fall-15pct"),
        pytest.param("esspri_change_w12", [(0, 6), (84, "5.2")], 400, False, "-0.8", id="ESSPRI-fall-13pct"),
        pytest.param("esspri_change_w12", [(0, 4), (84, "3.4")], 400, True, "-0.6", id="ESSPRI-4-fall-15pct"),
        pytest.param("esspri_change_w12", [(0, 4), (84, "3.5")], 400, False, "-0.5", id="ESSPRI-4-fall-12.5pct"),
        pytest.param("esspri_change_w12", [(0, 8), (84, 7)], 400, True, "-1", id="ESSPRI-8-fall-1"),
        pytest.param("esspri_change_w12", [(0, 8), (84, "7.1")], 400, False, "-0.9", id="ESSPRI-8-fall-0.9"),
        pytest.param("esspri_change_w12", [(0, 6)], 87, False, None, id="ESSPRI-missing"),
    ],
)  # fmt: skip
def test_nct05694130_score_change(
    code: str,
    values: list[tuple[int, Number]],
    as_of: int,
    met: bool | None,
    change: str | None,
) -> None:
    score = "ESSDAI" if code.startswith("essdai") else "ESSPRI"
    patient = course(scores={score: values}, as_of=as_of)
    expected = None if change is None else Decimal(change)
    assert outcome(evaluate(SJOGREN, code, patient)) == (met, expected, None)


@pytest.mark.parametrize(
    ("code", "scores", "detail"),
    [
        pytest.param("essdai_change_w12", {"ESSDAI": [(0, 10), (84, 7)]}, "ESSDAI 7 on 2025-03-26 − baseline 10 on 2025-01-01 = -3; MCII (fall ≥ 3) met", id="ESSDAI-met"),
        pytest.param("essdai_change_w12", {"ESSDAI": [(0, 10), (84, 8)]}, "ESSDAI 8 on 2025-03-26 − baseline 10 on 2025-01-01 = -2; MCII (fall ≥ 3) not met", id="ESSDAI-not-met"),
        pytest.param(
            "esspri_change_w12",
            {"ESSPRI": [(0, 6), (84, "5.1")]},
            "ESSPRI 5.1 on 2025-03-26 − baseline 6 on 2025-01-01 = -0.9; "
            "MCII (fall ≥ 1 or fall ≥ 15%) met",
            id="ESSPRI-relative-route",
        ),
    ],
)  # fmt: skip
def test_nct05694130_score_change_detail(
    code: str, scores: dict[str, list[tuple[int, Number]]], detail: str
) -> None:
    assert evaluate(SJOGREN, code, course(scores=scores)).detail == detail


def test_nct05694130_score_change_after_withdrawal_is_not_an_improvement() -> None:
    patient = course(scores={"ESSDAI": [(0, 10), (84, 4)]}, withdrawn=60)
    result = evaluate(SJOGREN, "essdai_change_w12", patient)
    assert outcome(result) == (False, None, None)
    assert result.detail == (
        "withdrawn on 2025-03-02 with no assessment in window 2025-03-23 to 2025-03-29 by then: "
        "no value, MCII counted as not met"
    )
