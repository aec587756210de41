"""Per-trial endpoint tests: Bleeding and rescue at the time point."""

# ruff: noqa: E501 -- the parameter tables keep one row per line (# fmt: skip), however long

from __future__ import annotations

import pytest

from ecrf.domain.endpoints import (
    RescueEpisode,
)
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
    rescue,
)

pytestmark = pytest.mark.django_db


# --- Bleeding and rescue at the time point ------------------------------------------------------


@pytest.mark.parametrize(
    ("registry_id", "version", "code", "counts", "bleeding", "rescues", "met"),
    [
        # NCT05471050 v1: bleeding window 0 days; rescue look-back 28 days (day 152 to 180). The
        # day-180 count must lie in a response confirmed on or before it (here from day 172, or
        # from day 14 for a responder since week 2).
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, 60), [], [], True, id="v1-clean"),
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, 60), [(180, 1)], [], False, id="v1-bleed-on-count-day"),
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, 60), [(171, 1)], [], True, id="v1-bleed-day-before-first-count"),
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, 60), [(176, 1)], [], False, id="v1-bleed-between-count-and-confirmation"),
        # In an established response, bleeding is a loss (loss.bleeding defaults to true): the
        # day-180 count qualifies but starts a new response that needs its own confirmation.
        pytest.param(TAC_DAN, 1, SR6M, [(14, 60), (22, 60), (150, 60), (180, 60)], [(179, 1)], [], False, id="v1-responder-bleeds-day-before-loses-response"),
        # Re-confirmed only after the 6-month count: a new response, not a maintained one.
        pytest.param(TAC_DAN, 1, SR6M, [(14, 60), (22, 60), (150, 60), (180, 60), (188, 60)], [(179, 1)], [], False, id="v1-responder-bleeds-day-before-reconfirmed-after"),
        pytest.param(TAC_DAN, 1, SR6M, [(14, 60), (22, 60), (150, 60), (170, 60), (180, 60)], [(160, 1)], [], True, id="v1-responder-bleeds-then-reconfirmed-by-month-6"),
        pytest.param(TAC_DAN, 1, SR6M, [(14, 60), (22, 60), (150, 60), (180, 60)], [], [], True, id="v1-responder-no-bleeding"),
        pytest.param(TAC_DAN, 1, SR6M, [(14, 60), (22, 60), (180, 60)], [], [rescue(140, 152)], False, id="v1-rescue-stopped-28-days-before"),
        pytest.param(TAC_DAN, 1, SR6M, [(14, 60), (22, 60), (180, 60)], [], [rescue(140, 151)], True, id="v1-rescue-stopped-29-days-before"),
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, 60), [], [rescue(10, 20)], True, id="v1-early-rescue-outside-look-back"),
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, 60), [], [rescue(170, 175, itp_directed=False)], True, id="v1-non-itp-therapy"),
        # NCT05471050 v2: no bleeding rule; no ITP-directed rescue at any time since day 1.
        pytest.param(TAC_DAN, 2, SR6M, [(180, 60)], [(180, 4)], [], True, id="v2-bleeding-ignored"),
        pytest.param(TAC_DAN, 2, SR6M, [(180, 60)], [], [rescue(10, 20)], False, id="v2-rescue-months-before"),
        pytest.param(TAC_DAN, 2, SR6M, [(180, 60)], [], [rescue(1, 1)], False, id="v2-rescue-on-day-2"),
        pytest.param(TAC_DAN, 2, SR6M, [(180, 60)], [], [rescue(-30, -1)], True, id="v2-rescue-before-day-1"),
        pytest.param(TAC_DAN, 2, SR6M, [(180, 60)], [], [rescue(185, 190)], True, id="v2-rescue-after-the-count"),
        pytest.param(TAC_DAN, 2, SR6M, [(180, 60)], [], [rescue(10, 20, itp_directed=False)], True, id="v2-non-itp-therapy"),
        # NCT03304288: same IWG rules at day 360 (look-back day 332 to 360).
        pytest.param(RTX_ATRA, 1, OR1Y, pair(360, 368, 60), [(360, 1)], [], False, id="RTX-bleed-on-count-day"),
        pytest.param(RTX_ATRA, 1, OR1Y, pair(360, 368, 60), [(359, 1)], [], True, id="RTX-bleed-day-before"),
        pytest.param(RTX_ATRA, 1, OR1Y, pair(360, 368, 60), [], [rescue(320, 332)], False, id="RTX-rescue-stopped-28-days-before"),
        pytest.param(RTX_ATRA, 1, OR1Y, pair(360, 368, 60), [], [rescue(320, 331)], True, id="RTX-rescue-stopped-29-days-before"),
        pytest.param(RTX_ATRA, 1, W4, [(28, 60)], [(28, 1)], [], False, id="RTX-w4-bleed-on-count-day"),
        # NCT05694130: the count alone decides.
        pytest.param(SJOGREN, 1, "cr_w12", [(84, 150)], [(84, 4)], [], True, id="SJS-cr-bleeding-ignored"),
        pytest.param(SJOGREN, 1, "cr_w12", [(84, 150)], [], [rescue(80, None)], True, id="SJS-cr-rescue-ignored"),
        pytest.param(SJOGREN, 1, "pr_w12", [(84, 60)], [(84, 3)], [], True, id="SJS-pr-bleeding-ignored"),
    ],
)  # fmt: skip
def test_bleeding_and_rescue_at_the_time_point(
    registry_id: str,
    version: int,
    code: str,
    counts: list[tuple[int, Number]],
    bleeding: list[tuple[int, int]],
    rescues: list[RescueEpisode],
    met: bool,
) -> None:
    patient = course(counts, bleeding=bleeding, rescue=rescues)
    assert outcome(evaluate(registry_id, code, patient, version)) == (met, None, None)


def test_nct05471050_v2_rescue_since_day_1_detail() -> None:
    patient = course([(180, 60)], rescue=[rescue(10, 20, therapy="IVIG")])
    result = evaluate(TAC_DAN, SR6M, patient, version=2)
    assert result.detail == (
        "NR: PLT 60 on 2025-06-30 > 50 (R by count); bleeding not assessed; "
        "rescue IVIG 2025-01-11 to 2025-01-21 since day 1; needs R or better"
    )
