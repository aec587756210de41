"""Per-trial endpoint tests: NCT03304288: sustained response (PLT > 30 for 6 consecutive months)."""

# ruff: noqa: E501 -- the parameter tables keep one row per line (# fmt: skip), however long

from __future__ import annotations

from typing import Any

import pytest

from ecrf.domain.endpoints import (
    RescueEpisode,
)
from tests.endpoints_per_trial.support import (
    RTX_ATRA,
    Number,
    course,
    evaluate,
    outcome,
    pair,
    rescue,
)

pytestmark = pytest.mark.django_db


# --- NCT03304288: sustained response (PLT > 30 for 6 consecutive months) -------------------------


def monthly(first: int, last: int, value: Number) -> list[tuple[int, Number]]:
    return [(n, value) for n in range(first, last + 1, 30)]


# The 6 months start at the first count of a response confirmed under the protocol's criteria
# (R >= 30 and >= 2x baseline, or CR >= 100; confirmed > 7 days later); the endpoint's own criteria
# (> 30, no bleeding, no rescue) then apply to every count. Baseline 10 makes any count >= 30 an R.
@pytest.mark.parametrize(
    ("counts", "baseline", "bleeding", "rescues", "as_of", "expected"),
    [
        pytest.param(monthly(30, 210, 31), 10, [], [], 400, (True, 180, None), id="31-for-180-days"),
        pytest.param(monthly(30, 210, "30.1"), 10, [], [], 400, (True, 180, None), id="30.1"),
        pytest.param(monthly(30, 210, 30), 10, [], [], 400, (False, None, None), id="exactly-30-is-not->30"),
        pytest.param([*monthly(30, 180, 31), (209, 31)], 10, [], [], 400, (False, None, None), id="179-days"),
        # A count of 30 is still an R under the protocol (no loss, so no new response to start a
        # new period from) but not > 30: it ends the maintenance for good.
        pytest.param([*monthly(30, 90, 31), (120, 30), *monthly(150, 330, 31)], 10, [], [], 400, (False, None, None), id="dip-to-30-without-loss-ends-it"),
        pytest.param([*monthly(30, 90, 31), (120, 20), (122, 20), *monthly(150, 330, 31)], 10, [], [], 400, (True, 180, None), id="new-response-after-a-loss-starts-a-new-period"),
        pytest.param(monthly(30, 210, 31), 10, [(100, 1)], [], 400, (False, None, None), id="bleeding-in-run"),
        pytest.param(monthly(30, 210, 31), 10, [], [rescue(100, 101)], 400, (False, None, None), id="rescue-in-run"),
        pytest.param(monthly(200, 380, 31), 10, [], [], 400, (False, None, None), id="run-ends-after-horizon-374"),
        pytest.param(monthly(30, 150, 31), 10, [], [], 160, (None, None, None), id="run-open-at-data-cut"),
        # No response was ever achieved: 31 < 2 x 25, whatever the run of counts > 30.
        pytest.param(monthly(30, 210, 31), 25, [], [], 400, (False, None, None), id="31-under-2x-baseline-25"),
        pytest.param([*pair(30, 38, 40), *monthly(60, 210, 31)], 20, [], [], 400, (True, 180, None), id="confirmed-PR-then-6-months-over-30"),
        pytest.param([*pair(30, 37, 40), *monthly(60, 210, 31)], 20, [], [], 400, (False, None, None), id="PR-confirmed-7-days-later-is-not-confirmed"),
        pytest.param([*pair(30, 38, 100), *monthly(60, 210, 31)], 60, [], [], 400, (True, 180, None), id="confirmed-CR-needs-no-fold-of-baseline"),
        pytest.param([(30, 30), (38, 31), *monthly(60, 240, 31)], 15, [], [], 400, (False, None, None), id="response-first-count-30-is-not->30"),
        pytest.param([*pair(30, 38, 40), *monthly(60, 210, 31)], 20, [(34, 1)], [], 400, (False, None, None), id="bleeding-breaks-the-confirmation"),
    ],
)  # fmt: skip
def test_nct03304288_sustained_response(
    counts: list[tuple[int, Number]],
    baseline: Number,
    bleeding: list[tuple[int, int]],
    rescues: list[RescueEpisode],
    as_of: int,
    expected: tuple[Any, Any, Any],
) -> None:
    patient = course(counts, baseline=baseline, bleeding=bleeding, rescue=rescues, as_of=as_of)
    assert outcome(evaluate(RTX_ATRA, "sustained_response", patient)) == expected


@pytest.mark.parametrize(
    ("counts", "baseline", "detail"),
    [
        pytest.param(
            [*pair(30, 38, 40), *monthly(60, 210, 31)],
            20,
            "confirmed R or better under the protocol response criteria: R: PLT 40 on 2025-01-31 "
            "≥ 30 and ≥ 2× baseline 20 (=40); no bleeding; no rescue in prior 28 days; confirmed "
            "by PLT 40 on 2025-02-08; lost on 2025-03-02: PLT 31 on 2025-03-02, PLT 31 on "
            "2025-04-01 (2 non-qualifying count(s) > 1 day(s) apart); then maintained R or better "
            "from PLT 40 on 2025-01-31 to PLT 31 on 2025-07-30: 180 days ≥ 180, 8 counts all "
            "qualifying; R: PLT 40 on 2025-01-31 > 30; no bleeding; no rescue in prior 28 days; "
            "no bleeding or rescue during the run",
            id="maintained",
        ),
        pytest.param(
            monthly(30, 210, 31),
            25,
            "no sustained response by 2026-01-10; no confirmed R or better under the protocol "
            "response criteria (needs a second qualifying count more than 7 days later); last "
            "assessment NR: PLT 31 on 2025-07-30 meets no level (R needs ≥ 30 and ≥ 2× baseline 25 "
            "(=50)); no bleeding; no rescue in prior 28 days",
            id="no-response",
        ),
        pytest.param(
            [*monthly(30, 90, 31), (120, 30), *monthly(150, 330, 31)],
            10,
            "no sustained response by 2026-01-10; response from PLT 31 on 2025-01-31 confirmed by "
            "PLT 31 on 2025-03-02: R or better held 60 days from PLT 31 on 2025-01-31 to PLT 31 on "
            "2025-04-01, ended by NR: PLT 30 on 2025-05-01 meets no level (R needs > 30); no "
            "bleeding; no rescue in prior 28 days (needs ≥ 180 days from the response's first "
            "count)",
            id="ended-by-a-count",
        ),
    ],
)
def test_nct03304288_sustained_response_detail(
    counts: list[tuple[int, Number]], baseline: Number, detail: str
) -> None:
    patient = course(counts, baseline=baseline)
    assert evaluate(RTX_ATRA, "sustained_response", patient).detail == detail
