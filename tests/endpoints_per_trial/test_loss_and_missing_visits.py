"""Per-trial endpoint tests: Loss of response and regain; Missing visits and open windows."""

# ruff: noqa: E501 -- the parameter tables keep one row per line (# fmt: skip), however long

from __future__ import annotations

import pytest

from tests.endpoints_per_trial.support import (
    OR1Y,
    RTX_ATRA,
    SJOGREN,
    SR6M,
    TAC_DAN,
    W4,
    Number,
    course,
    evaluate,
    outcome,
    pair,
)

pytestmark = pytest.mark.django_db


# --- Loss of response and regain ------------------------------------------------------------------

# R confirmed on day 14/22, lost on day 42 (two counts < 2× baseline 20, 2 days apart), regained
# on day 70/78 and still in response on day 90.
LOSS_THEN_REGAIN = [(14, 60), (22, 60), (42, 20), (44, 20), (70, 60), (78, 60), (90, 60)]


@pytest.mark.parametrize("registry_id", [TAC_DAN, RTX_ATRA])
@pytest.mark.parametrize(
    ("counts", "bleeding", "expected"),
    [
        pytest.param(LOSS_THEN_REGAIN, [], (None, 28, True), id="loss-then-regain"),
        pytest.param([(14, 60), (22, 60), (42, 60), (56, 60), (70, 60), (78, 60), (90, 60)], [], (None, 76, False), id="never-lost"),
        pytest.param([(14, 60), (22, 60), (42, 20), (43, 20), (70, 60), (78, 60), (90, 60)], [], (None, 76, False), id="two-low-counts-1-day-apart-not-a-loss"),
        pytest.param([(14, 60), (22, 60), (42, 20), (56, 60), (70, 60), (78, 60), (90, 60)], [], (None, 76, False), id="single-low-count-not-a-loss"),
        pytest.param([(14, 60), (22, 60), (42, 60), (56, 60), (70, 60), (78, 60), (90, 60)], [(30, 1)], (None, 16, True), id="lost-by-bleeding"),
        pytest.param([(14, 60), (21, 60)], [], (None, None, None), id="never-confirmed"),
    ],
)  # fmt: skip
def test_duration_of_response(
    registry_id: str,
    counts: list[tuple[int, Number]],
    bleeding: list[tuple[int, int]],
    expected: tuple[None, int | None, bool | None],
) -> None:
    patient = course(counts, bleeding=bleeding)
    assert outcome(evaluate(registry_id, "duration_of_response", patient)) == expected


def test_duration_ends_at_the_loss_and_regain_does_not_extend_it() -> None:
    patient = course(LOSS_THEN_REGAIN)
    result = evaluate(TAC_DAN, "duration_of_response", patient)
    assert result.detail == (
        "response from 2025-01-15 lost on 2025-02-12: PLT 20 on 2025-02-12, PLT 20 on "
        "2025-02-14 (2 non-qualifying count(s) > 1 day(s) apart) (28 days); 2 response "
        "episode(s), 48 days in response over 90 days observed"
    )
    assert outcome(evaluate(TAC_DAN, "time_to_response", patient)) == (None, 14, True)
    # A response that was later lost is still a response by 6 months (best response).
    assert evaluate(TAC_DAN, "response", patient).met is True


# --- Missing visits and open windows -------------------------------------------------------------


@pytest.mark.parametrize(
    ("registry_id", "version", "code", "counts", "as_of", "met"),
    [
        pytest.param(TAC_DAN, 1, SR6M, pair(150, 158, 60), 194, False, id="v1-closed"),
        pytest.param(TAC_DAN, 1, SR6M, pair(150, 158, 60), 193, None, id="v1-open"),
        pytest.param(TAC_DAN, 1, SR6M, [(165, 60)], 400, False, id="v1-day-before-window"),
        pytest.param(TAC_DAN, 2, SR6M, [(150, 60)], 194, False, id="v2-closed"),
        pytest.param(TAC_DAN, 2, SR6M, [(150, 60)], 193, None, id="v2-open"),
        pytest.param(TAC_DAN, 2, SR6M, [(195, 60)], 400, False, id="v2-day-after-window"),
        pytest.param(TAC_DAN, 2, SR6M, [(170, 60)], 175, None, id="v2-nearer-may-follow"),
        pytest.param(TAC_DAN, 2, SR6M, [(170, 60)], 194, True, id="v2-nearest-once-closed"),
        pytest.param(TAC_DAN, 1, "response", [(14, 20)], 193, None, id="v1-best-R-open"),
        pytest.param(TAC_DAN, 1, "response", [(14, 20)], 194, False, id="v1-best-R-closed"),
        pytest.param(TAC_DAN, 1, "complete_response", pair(14, 22, 60), 193, None, id="v1-best-CR-open"),
        pytest.param(TAC_DAN, 1, "complete_response", pair(14, 22, 60), 194, False, id="v1-best-CR-closed"),
        pytest.param(RTX_ATRA, 1, OR1Y, [], 373, None, id="RTX-1y-open"),
        pytest.param(RTX_ATRA, 1, OR1Y, [], 374, False, id="RTX-1y-closed"),
        pytest.param(RTX_ATRA, 1, W4, [(25, 60)], 29, None, id="RTX-w4-open"),
        pytest.param(RTX_ATRA, 1, W4, [(25, 60)], 30, False, id="RTX-w4-closed"),
        pytest.param(SJOGREN, 1, "cr_w12", [(56, 150)], 86, None, id="SJS-w12-open"),
        pytest.param(SJOGREN, 1, "cr_w12", [(56, 150)], 87, False, id="SJS-w12-closed"),
        pytest.param(SJOGREN, 1, "pr_w4", [(24, 60)], 400, False, id="SJS-pr_w4-day-before-window"),
    ],
)  # fmt: skip
def test_missing_assessment(
    registry_id: str,
    version: int,
    code: str,
    counts: list[tuple[int, Number]],
    as_of: int,
    met: bool | None,
) -> None:
    patient = course(counts, as_of=as_of)
    assert outcome(evaluate(registry_id, code, patient, version)) == (met, None, None)


@pytest.mark.parametrize(
    ("as_of", "detail"),
    [
        pytest.param(194, "no assessment in window 2025-06-16 to 2025-07-14: counted as non-responder", id="closed"),
        pytest.param(193, "no assessment yet in window 2025-06-16 to 2025-07-14 as of 2025-07-13", id="open"),
    ],
)  # fmt: skip
def test_missing_assessment_detail(as_of: int, detail: str) -> None:
    result = evaluate(TAC_DAN, SR6M, course(pair(150, 158, 60), as_of=as_of))
    assert result.detail == detail
