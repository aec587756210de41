"""Per-trial endpoint tests: Confirmation: a second qualifying count more than 7 days later."""

# ruff: noqa: E501 -- the parameter tables keep one row per line (# fmt: skip), however long

from __future__ import annotations

import pytest

from tests.endpoints_per_trial.support import (
    CR1Y,
    OR1Y,
    RTX_ATRA,
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


# --- Confirmation: a second qualifying count more than 7 days later -------------------------------


@pytest.mark.parametrize(
    ("registry_id", "code", "counts", "as_of", "met"),
    [
        # v1 primary (confirmed_by: assessment): confirmed on or before the day-180 count.
        pytest.param(TAC_DAN, SR6M, pair(174, 180, 60), 400, False, id="v1-6-days"),
        pytest.param(TAC_DAN, SR6M, pair(173, 180, 60), 400, False, id="v1-7-days"),
        pytest.param(TAC_DAN, SR6M, pair(172, 180, 60), 400, True, id="v1-8-days"),
        # A response first seen at the month-6 count is not a maintained one: a confirmation
        # after that count, even inside the window, does not count.
        pytest.param(TAC_DAN, SR6M, pair(180, 188, 60), 400, False, id="v1-confirmed-after-the-count"),
        pytest.param(TAC_DAN, SR6M, pair(186, 194, 60), 400, False, id="v1-confirmed-on-window-end"),
        pytest.param(TAC_DAN, SR6M, pair(187, 195, 60), 400, False, id="v1-confirmed-1-day-late"),
        pytest.param(TAC_DAN, SR6M, pair(180, 187, 60), 190, False, id="v1-decided-once-the-count-is-in"),
        pytest.param(TAC_DAN, SR6M, pair(172, 180, 60), 180, True, id="v1-confirmed-window-open"),
        pytest.param(TAC_DAN, SR6M, [(176, 60), (184, 60)], 400, False, id="v1-tie-earlier-unconfirmed"),
        pytest.param(TAC_DAN, SR6M, [(178, 60), (188, 60)], 400, False, id="v1-nearest-not-yet-confirmed"),
        pytest.param(TAC_DAN, SR6M, [(150, 60), (158, 60), (180, 60)], 400, True, id="v1-confirmed-before-time-point"),
        pytest.param(TAC_DAN, SR6M, [(172, 60), (176, 20), (180, 60)], 400, False, id="v1-NR-count-between"),
        pytest.param(TAC_DAN, "response", pair(20, 27, 60), 400, False, id="v1-best-R-7-days"),
        pytest.param(TAC_DAN, "response", pair(20, 28, 60), 400, True, id="v1-best-R-8-days"),
        pytest.param(TAC_DAN, "complete_response", pair(20, 27, 100), 400, False, id="v1-best-CR-7-days"),
        pytest.param(TAC_DAN, "complete_response", pair(20, 28, 100), 400, True, id="v1-best-CR-8-days"),
        pytest.param(TAC_DAN, "response", pair(186, 194, 60), 400, True, id="v1-best-R-by-window-end"),
        pytest.param(TAC_DAN, "response", pair(187, 195, 60), 400, False, id="v1-best-R-1-day-late"),
        pytest.param(RTX_ATRA, OR1Y, pair(360, 366, 60), 400, False, id="RTX-6-days"),
        pytest.param(RTX_ATRA, OR1Y, pair(360, 367, 60), 400, False, id="RTX-7-days"),
        pytest.param(RTX_ATRA, OR1Y, pair(360, 368, 60), 400, True, id="RTX-8-days"),
        pytest.param(RTX_ATRA, CR1Y, pair(360, 367, 100), 400, False, id="RTX-CR-7-days"),
        pytest.param(RTX_ATRA, CR1Y, pair(360, 368, 100), 400, True, id="RTX-CR-8-days"),
        pytest.param(RTX_ATRA, W4, [(28, 60)], 400, True, id="RTX-w4-needs-no-confirmation"),
    ],
)  # fmt: skip
def test_confirmation(
    registry_id: str, code: str, counts: list[tuple[int, Number]], as_of: int, met: bool | None
) -> None:
    assert outcome(evaluate(registry_id, code, course(counts, as_of=as_of))) == (met, None, None)


R_60_ON_DAY_180 = (
    "R: PLT 60 on 2025-06-30 ≥ 30 and ≥ 2× baseline 20 (=40); no bleeding; "
    "no rescue in prior 28 days"
)


R_60_ON_DAY_172 = R_60_ON_DAY_180.replace("2025-06-30", "2025-06-22")


@pytest.mark.parametrize(
    ("counts", "bleeding", "detail"),
    [
        pytest.param(
            pair(173, 180, 60),
            [],
            f"{R_60_ON_DAY_180}; not part of a response confirmed on or before 2025-06-30 "
            "(needs a second qualifying count more than 7 days later); unbroken qualifying run: "
            "PLT 60 on 2025-06-23, PLT 60 on 2025-06-30",
            id="7-days-not-confirmed",
        ),
        pytest.param(
            pair(180, 188, 60),
            [],
            f"{R_60_ON_DAY_180}; not part of a response confirmed on or before 2025-06-30 "
            "(needs a second qualifying count more than 7 days later); unbroken qualifying run: "
            "PLT 60 on 2025-06-30",
            id="first-response-at-month-6",
        ),
        pytest.param(
            pair(172, 180, 60),
            [],
            f"{R_60_ON_DAY_180}; in response since 2025-06-22: {R_60_ON_DAY_172}; "
            "confirmed by PLT 60 on 2025-06-30",
            id="8-days-confirmed",
        ),
        # Bleeding ends the earlier response: the detail names that loss, its date and cause.
        pytest.param(
            [(14, 60), (22, 60), (150, 60), (180, 60), (188, 60)],
            [(179, 1)],
            f"{R_60_ON_DAY_180}; earlier response from PLT 60 on 2025-01-15 confirmed by PLT 60 "
            "on 2025-01-23 lost on 2025-06-29: WHO grade 1 bleeding; not part of a response "
            "confirmed on or before 2025-06-30 (needs a second qualifying count more than 7 days "
            "later); unbroken qualifying run: PLT 60 on 2025-06-30",
            id="response-lost-by-bleeding",
        ),
        pytest.param(
            [(14, 60), (22, 60), (150, 20), (152, 20), (180, 60)],
            [],
            f"{R_60_ON_DAY_180}; earlier response from PLT 60 on 2025-01-15 confirmed by PLT 60 "
            "on 2025-01-23 lost on 2025-05-31: PLT 20 on 2025-05-31, PLT 20 on 2025-06-02 "
            "(2 non-qualifying count(s) > 1 day(s) apart); not part of a response confirmed on or "
            "before 2025-06-30 (needs a second qualifying count more than 7 days later); unbroken "
            "qualifying run: PLT 60 on 2025-06-30",
            id="response-lost-by-counts",
        ),
    ],
)
def test_confirmation_detail(
    counts: list[tuple[int, Number]], bleeding: list[tuple[int, int]], detail: str
) -> None:
    result = evaluate(TAC_DAN, SR6M, course(counts, bleeding=bleeding))
    assert result.met is detail.startswith(f"{R_60_ON_DAY_180}; in response")
    assert result.detail == detail


@pytest.mark.parametrize(
    ("registry_id", "counts", "expected"),
    [
        pytest.param(TAC_DAN, pair(20, 28, 60), (None, 20, True), id="NCT05471050-8-days"),
        pytest.param(TAC_DAN, pair(20, 27, 60), (None, 27, False), id="NCT05471050-7-days-censored"),
        pytest.param(TAC_DAN, pair(190, 198, 60), (None, 190, False), id="NCT05471050-after-horizon"),
        pytest.param(RTX_ATRA, pair(20, 28, 60), (None, 20, True), id="NCT03304288-8-days"),
        pytest.param(RTX_ATRA, pair(20, 27, 60), (None, 27, False), id="NCT03304288-7-days-censored"),
    ],
)  # fmt: skip
def test_time_to_response(
    registry_id: str, counts: list[tuple[int, Number]], expected: tuple[None, int, bool]
) -> None:
    assert outcome(evaluate(registry_id, "time_to_response", course(counts))) == expected
