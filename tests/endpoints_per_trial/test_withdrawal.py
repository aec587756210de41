"""Per-trial endpoint tests: Withdrawal."""

# ruff: noqa: E501 -- the parameter tables keep one row per line (# fmt: skip), however long

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from ecrf.domain.endpoints import (
    PatientCourse,
)
from tests.endpoints_per_trial.support import (
    AIC,
    OR1Y,
    RTX_ATRA,
    SJOGREN,
    SR6M,
    TAC_DAN,
    course,
    day,
    evaluate,
    outcome,
    pair,
)

pytestmark = pytest.mark.django_db


# --- Withdrawal ----------------------------------------------------------------------------------

RESPONDER_THEN_LATE_COUNTS = [(14, 60), (22, 60), (170, 60), (178, 60), (360, 60), (368, 60)]


# Data after the withdrawal are ignored; an assessment inside the window on or before the
# withdrawal date is used as usual; only without one is the result a non-response (or no value).
@pytest.mark.parametrize(
    ("registry_id", "version", "code", "patient", "expected"),
    [
        pytest.param(TAC_DAN, 1, SR6M, course(RESPONDER_THEN_LATE_COUNTS, withdrawn=150), (False, None, None), id="v1-primary-withdrawn-before-window"),
        pytest.param(TAC_DAN, 1, SR6M, course(RESPONDER_THEN_LATE_COUNTS, withdrawn=178), (True, None, None), id="v1-primary-withdrawn-in-window-after-counts"),
        pytest.param(TAC_DAN, 1, SR6M, course(pair(172, 180, 60), withdrawn=181), (True, None, None), id="v1-primary-withdrawn-after-confirmation"),
        pytest.param(TAC_DAN, 1, SR6M, course([(14, 60), (22, 60), (170, 60), (180, 20), (182, 20)], withdrawn=175), (True, None, None), id="v1-primary-later-counts-ignored"),
        pytest.param(TAC_DAN, 1, "response", course(RESPONDER_THEN_LATE_COUNTS, withdrawn=150), (True, None, None), id="v1-response-before-withdrawal-counts"),
        pytest.param(TAC_DAN, 1, "time_to_response", course([(14, 20), (28, 20), (170, 60), (178, 60)], withdrawn=60), (None, 28, False), id="v1-ttr-censored"),
        pytest.param(TAC_DAN, 1, "duration_of_response", course([(14, 60), (22, 60), (42, 60), (70, 20), (72, 20)], withdrawn=60), (None, 28, False), id="v1-dor-censored"),
        pytest.param(TAC_DAN, 2, SR6M, course([(180, 60)], withdrawn=179), (False, None, None), id="v2-withdrawn-day-before"),
        pytest.param(TAC_DAN, 2, SR6M, course([(180, 60)], withdrawn=180), (True, None, None), id="v2-withdrawn-on-the-day"),
        pytest.param(TAC_DAN, 2, SR6M, course([(170, 60), (180, 40)], withdrawn=175), (True, None, None), id="v2-count-before-withdrawal-in-window"),
        pytest.param(RTX_ATRA, 1, OR1Y, course(RESPONDER_THEN_LATE_COUNTS, withdrawn=300), (False, None, None), id="RTX-1y-withdrawn-before"),
        pytest.param(RTX_ATRA, 1, OR1Y, course(RESPONDER_THEN_LATE_COUNTS, withdrawn=360), (True, None, None), id="RTX-1y-withdrawn-on-the-count-day"),
        pytest.param(RTX_ATRA, 1, OR1Y, course(pair(360, 368, 60), withdrawn=365), (False, None, None), id="RTX-1y-withdrawn-before-confirmation"),
        pytest.param(RTX_ATRA, 1, "time_to_response", course([(14, 20), (28, 20), (170, 60), (178, 60)], withdrawn=60), (None, 28, False), id="RTX-ttr-censored"),
        pytest.param(RTX_ATRA, 1, "sustained_response", course([(n, 60) for n in range(30, 240, 30)], withdrawn=200), (False, None, None), id="RTX-sustained-withdrawn"),
        pytest.param(RTX_ATRA, 1, "sustained_response", course([(n, 60) for n in range(30, 240, 30)], withdrawn=215), (True, 180, None), id="RTX-sustained-complete-before-withdrawal"),
        pytest.param(SJOGREN, 1, "cr_w12", course([(84, 150)], withdrawn=60), (False, None, None), id="SJS-cr_w12-withdrawn"),
        pytest.param(SJOGREN, 1, "cr_w12", course([(82, 150)], withdrawn=83), (True, None, None), id="SJS-cr_w12-count-before-withdrawal-in-window"),
        pytest.param(SJOGREN, 1, "cr_w12", course([(82, 150), (84, 60)], withdrawn=83), (True, None, None), id="SJS-cr_w12-nearer-count-after-withdrawal-ignored"),
        pytest.param(SJOGREN, 1, "pr_w12", course([(82, 150)], withdrawn=83), (False, None, None), id="SJS-pr_w12-count-before-withdrawal-is-CR"),
        pytest.param(SJOGREN, 1, "essdai_change_w12", course(scores={"ESSDAI": [(0, 10), (82, 5)]}, withdrawn=83), (True, Decimal(-5), None), id="SJS-essdai-score-before-withdrawal"),
        pytest.param(SJOGREN, 1, "essdai_change_w12", course(scores={"ESSDAI": [(0, 10), (82, 9), (84, 4)]}, withdrawn=83), (False, Decimal(-1), None), id="SJS-essdai-later-score-ignored"),
        pytest.param(SJOGREN, 1, "esspri_change_w12", course(scores={"ESSPRI": [(0, 6), (84, 5)]}, withdrawn=83), (False, None, None), id="SJS-esspri-score-after-withdrawal"),
        pytest.param(AIC, 1, "hb_6m", course(baseline=None, hb=[(168, 110)], withdrawn=170), (None, Decimal(110), None), id="AIC-hb_6m-value-before-withdrawal"),
        pytest.param(AIC, 1, "hb_6m", course(baseline=None, hb=[(168, 110), (180, 90)], withdrawn=170), (None, Decimal(110), None), id="AIC-hb_6m-nearer-value-after-withdrawal-ignored"),
        pytest.param(AIC, 1, "plt_6m", course([(170, 45)], baseline=None, withdrawn=170), (None, Decimal(45), None), id="AIC-plt_6m-value-on-withdrawal-day"),
        pytest.param(AIC, 1, "hb_response_6m", course(baseline=None, hb=[(0, 80), (168, 125)], withdrawn=170), (True, "CR", None), id="AIC-hb_response-value-before-withdrawal"),
    ],
)  # fmt: skip
def test_withdrawal(
    registry_id: str,
    version: int,
    code: str,
    patient: PatientCourse,
    expected: tuple[Any, Any, Any],
) -> None:
    assert outcome(evaluate(registry_id, code, patient, version)) == expected


@pytest.mark.parametrize(
    ("registry_id", "code", "patient", "detail"),
    [
        pytest.param(
            TAC_DAN,
            SR6M,
            course(RESPONDER_THEN_LATE_COUNTS, withdrawn=150),
            "withdrawn on 2025-05-31 with no assessment in window 2025-06-16 to 2025-07-14 by "
            "then: counted as non-responder",
            id="no-assessment-before-withdrawal",
        ),
        pytest.param(
            TAC_DAN,
            "time_to_response",
            course([(14, 20), (28, 20), (170, 60), (178, 60)], withdrawn=60),
            "no confirmed R or better; censored at last assessment 2025-01-29 (day 28); "
            "withdrawn on 2025-03-02",
            id="censored",
        ),
        pytest.param(
            RTX_ATRA,
            OR1Y,
            course(pair(360, 368, 60), withdrawn=365),
            "R: PLT 60 on 2025-12-27 ≥ 30 and ≥ 2× baseline 20 (=40); no bleeding; no rescue in "
            "prior 28 days; not part of a response confirmed by 2026-01-10 (needs a second "
            "qualifying count more than 7 days later); unbroken qualifying run: PLT 60 on "
            "2025-12-27; withdrawn on 2026-01-01",
            id="withdrawn-before-confirmation",
        ),
        pytest.param(SJOGREN, "cr_w12", course([(82, 150), (84, 60)], withdrawn=83), "CR: PLT 150 on 2025-03-24 > 100; bleeding not assessed; rescue not assessed", id="count-before-withdrawal"),
        pytest.param(SJOGREN, "essdai_change_w12", course(scores={"ESSDAI": [(0, 10), (82, 5)]}, withdrawn=83), "ESSDAI 5 on 2025-03-24 − baseline 10 on 2025-01-01 = -5; MCII (fall ≥ 3) met", id="score-before-withdrawal"),
        pytest.param(AIC, "hb_6m", course(baseline=None, hb=[(168, 110)], withdrawn=170), "HGB 110 on 2025-06-18 (nearest to 2025-06-30 in window 2025-06-16 to 2025-07-14)", id="value-before-withdrawal"),
    ],
)  # fmt: skip
def test_withdrawal_detail(
    registry_id: str, code: str, patient: PatientCourse, detail: str
) -> None:
    assert evaluate(registry_id, code, patient).detail == detail


def test_withdrawal_after_the_data_cut_is_not_yet_known() -> None:
    # Known, the withdrawal would close the window and decide on the day-172 count (False).
    patient = course(pair(172, 180, 60), as_of=179, withdrawn=250)
    assert outcome(evaluate(TAC_DAN, SR6M, patient)) == (None, None, None)
    assert outcome(evaluate(TAC_DAN, SR6M, replace(patient, withdrawn_on=day(179)))) == (
        False,
        None,
        None,
    )
