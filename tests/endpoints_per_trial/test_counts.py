"""Per-trial endpoint tests: single counts under each protocol's response criteria; thresholds of
the time-point endpoints."""

# ruff: noqa: E501 -- the parameter tables keep one row per line (# fmt: skip), however long

from __future__ import annotations

import pytest

from ecrf.domain.endpoints import (
    RescueEpisode,
    assess_visits,
)
from tests.endpoints_per_trial.support import (
    CR1Y,
    OR1Y,
    RTX_ATRA,
    SJOGREN,
    SR6M,
    TAC_DAN,
    W4,
    Number,
    course,
    day,
    endpoint_specs,
    evaluate,
    outcome,
    pair,
    protocol_criteria,
    rescue,
)

pytestmark = pytest.mark.django_db


# --- Single counts under each protocol's response criteria ----------------------------------------


@pytest.mark.parametrize(
    ("registry_id", "count", "baseline", "response"),
    [
        # NCT05471050 v1: R ≥ 30 and ≥ 2× baseline; CR ≥ 100 and ≥ 2× baseline (registry).
        pytest.param(TAC_DAN, "29.9", 10, "NR", id="NCT05471050-29.9"),
        pytest.param(TAC_DAN, 30, 10, "R", id="NCT05471050-exactly-30"),
        pytest.param(TAC_DAN, "30.1", 10, "R", id="NCT05471050-30.1"),
        pytest.param(TAC_DAN, 40, 20, "R", id="NCT05471050-exactly-2x-baseline"),
        pytest.param(TAC_DAN, "39.9", 20, "NR", id="NCT05471050-just-under-2x-baseline"),
        pytest.param(TAC_DAN, "99.9", 10, "R", id="NCT05471050-99.9-is-R"),
        pytest.param(TAC_DAN, 100, 50, "CR", id="NCT05471050-CR-100-exactly-2x"),
        pytest.param(TAC_DAN, 100, 51, "NR", id="NCT05471050-CR-100-under-2x-is-NR"),
        # NCT03304288: R ≥ 30 and ≥ 2× baseline; CR ≥ 100 with no fold rule.
        pytest.param(RTX_ATRA, "29.9", 10, "NR", id="NCT03304288-29.9"),
        pytest.param(RTX_ATRA, 30, 10, "R", id="NCT03304288-exactly-30"),
        pytest.param(RTX_ATRA, "30.1", 10, "R", id="NCT03304288-30.1"),
        pytest.param(RTX_ATRA, 30, 15, "R", id="NCT03304288-30-exactly-2x-baseline"),
        pytest.param(RTX_ATRA, 30, "15.1", "NR", id="NCT03304288-30-just-under-2x-baseline"),
        pytest.param(RTX_ATRA, "39.9", 20, "NR", id="NCT03304288-just-under-2x-baseline"),
        pytest.param(RTX_ATRA, 100, 51, "CR", id="NCT03304288-CR-100-needs-no-fold"),
        pytest.param(RTX_ATRA, "99.9", 51, "NR", id="NCT03304288-99.9-under-2x-is-NR"),
        # NCT05694130: CR > 100; PR 50–100; no fold rule.
        pytest.param(SJOGREN, 49, 10, "NR", id="NCT05694130-49"),
        pytest.param(SJOGREN, "49.9", 10, "NR", id="NCT05694130-49.9"),
        pytest.param(SJOGREN, 50, 10, "PR", id="NCT05694130-50"),
        pytest.param(SJOGREN, 50, 40, "PR", id="NCT05694130-50-under-2x-baseline"),
        pytest.param(SJOGREN, 100, 10, "PR", id="NCT05694130-exactly-100"),
        pytest.param(SJOGREN, "100.1", 10, "CR", id="NCT05694130-100.1"),
        pytest.param(SJOGREN, 101, 10, "CR", id="NCT05694130-101"),
    ],
)
def test_count_classification(
    registry_id: str, count: Number, baseline: Number, response: str
) -> None:
    visits = assess_visits(protocol_criteria(registry_id), course([(14, count)], baseline=baseline))
    assert [(visit.date, visit.response) for visit in visits] == [(day(14), response)]
    assert visits[0].qualifying is (response != "NR")


@pytest.mark.parametrize(
    ("registry_id", "count", "baseline", "detail"),
    [
        pytest.param(
            TAC_DAN,
            30,
            10,
            "R: PLT 30 on 2025-01-15 ≥ 30 and ≥ 2× baseline 10 (=20); no bleeding; "
            "no rescue in prior 28 days",
            id="NCT05471050-exactly-30",
        ),
        pytest.param(
            RTX_ATRA,
            "39.9",
            20,
            "NR: PLT 39.9 on 2025-01-15 meets no level (R needs ≥ 30 and ≥ 2× baseline 20 "
            "(=40)); no bleeding; no rescue in prior 28 days",
            id="NCT03304288-just-under-2x",
        ),
        pytest.param(SJOGREN, 100, 10, "PR: PLT 100 on 2025-01-15 ≥ 50 and ≤ 100; bleeding not assessed; rescue not assessed", id="NCT05694130-exactly-100"),
    ],
)  # fmt: skip
def test_count_detail(registry_id: str, count: Number, baseline: Number, detail: str) -> None:
    visits = assess_visits(protocol_criteria(registry_id), course([(14, count)], baseline=baseline))
    assert [visit.detail for visit in visits] == [detail]


@pytest.mark.parametrize(
    ("registry_id", "count", "bleeding", "rescues", "expected"),
    [
        pytest.param(TAC_DAN, 60, [(14, 1)], [], ("NR", True, False), id="NCT05471050-bleed-same-day"),
        pytest.param(TAC_DAN, 60, [(13, 4)], [], ("R", False, False), id="NCT05471050-bleed-day-before"),
        pytest.param(TAC_DAN, 60, [(14, 0)], [], ("R", False, False), id="NCT05471050-who-grade-0"),
        pytest.param(RTX_ATRA, 60, [(14, 1)], [], ("NR", True, False), id="NCT03304288-bleed-same-day"),
        pytest.param(RTX_ATRA, 60, [(13, 1)], [], ("R", False, False), id="NCT03304288-bleed-day-before"),
        pytest.param(SJOGREN, 150, [(14, 4)], [], ("CR", False, False), id="NCT05694130-bleeding-ignored"),
        pytest.param(SJOGREN, 150, [], [rescue(10, None)], ("CR", False, False), id="NCT05694130-rescue-ignored"),
        # Look-back of 28 days: the rescue window of a day-14 count is day -14 to day 14.
        pytest.param(TAC_DAN, 60, [], [rescue(-20, -14)], ("NR", False, True), id="NCT05471050-rescue-stop-28d-before"),
        pytest.param(TAC_DAN, 60, [], [rescue(-20, -15)], ("R", False, False), id="NCT05471050-rescue-stop-29d-before"),
        pytest.param(TAC_DAN, 60, [], [rescue(14, 20)], ("NR", False, True), id="NCT05471050-rescue-starts-count-day"),
        pytest.param(TAC_DAN, 60, [], [rescue(5, 10, itp_directed=False)], ("R", False, False), id="NCT05471050-non-itp-therapy"),
        pytest.param(RTX_ATRA, 60, [], [rescue(-20, -14)], ("NR", False, True), id="NCT03304288-rescue-stop-28d-before"),
        pytest.param(RTX_ATRA, 60, [], [rescue(-20, -15)], ("R", False, False), id="NCT03304288-rescue-stop-29d-before"),
    ],
)  # fmt: skip
def test_bleeding_and_rescue_at_a_count(
    registry_id: str,
    count: Number,
    bleeding: list[tuple[int, int]],
    rescues: list[RescueEpisode],
    expected: tuple[str, bool, bool],
) -> None:
    patient = course([(14, count)], bleeding=bleeding, rescue=rescues)
    (visit,) = assess_visits(protocol_criteria(registry_id), patient)
    assert (visit.response, visit.bleeding, visit.rescue) == expected


def test_rescue_detail_names_the_episode() -> None:
    patient = course([(14, 60)], rescue=[rescue(-20, -14, therapy="IVIG 1 g/kg")])
    (visit,) = assess_visits(protocol_criteria(TAC_DAN), patient)
    assert visit.detail == (
        "NR: PLT 60 on 2025-01-15 ≥ 30 and ≥ 2× baseline 20 (=40) (R by count); no bleeding; "
        "rescue IVIG 1 g/kg 2024-12-12 to 2024-12-18 in prior 28 days"
    )


@pytest.mark.parametrize(
    ("bleeding", "rescues", "response"),
    [
        pytest.param([(14, 3)], [], "R", id="bleeding-ignored"),
        pytest.param([], [rescue(2, 5)], "NR", id="rescue-days-2-to-5"),
        pytest.param([], [rescue(-30, -1)], "R", id="rescue-stopped-before-day-1"),
        pytest.param([], [rescue(-30, 0)], "NR", id="rescue-active-on-day-1"),
        pytest.param([], [rescue(3, 4, itp_directed=False)], "R", id="non-itp-therapy"),
    ],
)
def test_nct05471050_v2_count_classification(
    bleeding: list[tuple[int, int]], rescues: list[RescueEpisode], response: str
) -> None:
    primary = endpoint_specs(TAC_DAN, 2)[SR6M]
    patient = course([(100, 60)], baseline=40, bleeding=bleeding, rescue=rescues)
    assert [visit.response for visit in assess_visits(primary, patient)] == [response]


# --- Thresholds of the time-point endpoints ------------------------------------------------------


@pytest.mark.parametrize(
    ("registry_id", "version", "code", "counts", "baseline", "met"),
    [
        # NCT05471050 v1 primary: ≥ 30 and ≥ 2× baseline at day 180 ± 14, in a response confirmed
        # (> 7 days) on or before that count: here by the day-180 count itself.
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, "29.9"), 10, False, id="v1-29.9"),
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, 30), 10, True, id="v1-exactly-30"),
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, "30.1"), 10, True, id="v1-30.1"),
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, 40), 20, True, id="v1-exactly-2x"),
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, "39.9"), 20, False, id="v1-just-under-2x"),
        pytest.param(TAC_DAN, 1, "complete_response", pair(90, 98, 100), 50, True, id="v1-CR-100-2x"),
        pytest.param(TAC_DAN, 1, "complete_response", pair(90, 98, "99.9"), 10, False, id="v1-CR-99.9"),
        pytest.param(TAC_DAN, 1, "complete_response", pair(90, 98, 100), 51, False, id="v1-CR-under-2x"),
        pytest.param(TAC_DAN, 1, "response", pair(90, 98, 30), 15, True, id="v1-R-exactly-30-2x"),
        # NCT05471050 v2 primary: PLT > 50 at day 180 ± 14, a single count.
        pytest.param(TAC_DAN, 2, SR6M, [(180, 50)], 10, False, id="v2-exactly-50"),
        pytest.param(TAC_DAN, 2, SR6M, [(180, "50.1")], 10, True, id="v2-50.1"),
        pytest.param(TAC_DAN, 2, SR6M, [(180, 51)], 10, True, id="v2-51"),
        pytest.param(TAC_DAN, 2, SR6M, [(180, 51)], 40, True, id="v2-no-fold-rule"),
        # NCT03304288: R ≥ 30 and ≥ 2× baseline, CR ≥ 100, at day 360 ± 14, confirmed.
        pytest.param(RTX_ATRA, 1, OR1Y, pair(360, 368, "29.9"), 10, False, id="RTX-29.9"),
        pytest.param(RTX_ATRA, 1, OR1Y, pair(360, 368, 30), 10, True, id="RTX-exactly-30"),
        pytest.param(RTX_ATRA, 1, OR1Y, pair(360, 368, 40), 20, True, id="RTX-exactly-2x"),
        pytest.param(RTX_ATRA, 1, OR1Y, pair(360, 368, "39.9"), 20, False, id="RTX-just-under-2x"),
        pytest.param(RTX_ATRA, 1, OR1Y, pair(360, 368, 100), 60, True, id="RTX-CR-counts-as-R"),
        pytest.param(RTX_ATRA, 1, CR1Y, pair(360, 368, 100), 60, True, id="RTX-CR-100"),
        pytest.param(RTX_ATRA, 1, CR1Y, pair(360, 368, "99.9"), 10, False, id="RTX-CR-99.9"),
        pytest.param(RTX_ATRA, 1, W4, [(28, 30)], 15, True, id="RTX-w4-exactly-30"),
        pytest.param(RTX_ATRA, 1, W4, [(28, "29.9")], 10, False, id="RTX-w4-29.9"),
        pytest.param(RTX_ATRA, 1, W4, [(30, 40)], 20, True, id="RTX-w4-window-end"),
        # NCT05694130: CR > 100, PR 50–100 exactly, at weeks 4, 8 and 12 (± 3 days).
        pytest.param(SJOGREN, 1, "cr_w4", [(28, 100)], 10, False, id="SJS-cr_w4-100"),
        pytest.param(SJOGREN, 1, "cr_w4", [(28, 101)], 10, True, id="SJS-cr_w4-101"),
        pytest.param(SJOGREN, 1, "cr_w8", [(56, 100)], 10, False, id="SJS-cr_w8-100"),
        pytest.param(SJOGREN, 1, "cr_w8", [(56, 101)], 10, True, id="SJS-cr_w8-101"),
        pytest.param(SJOGREN, 1, "cr_w12", [(84, 100)], 10, False, id="SJS-cr_w12-100"),
        pytest.param(SJOGREN, 1, "cr_w12", [(84, 101)], 10, True, id="SJS-cr_w12-101"),
        pytest.param(SJOGREN, 1, "cr_w12", [(87, 101)], 10, True, id="SJS-cr_w12-window-end"),
        pytest.param(SJOGREN, 1, "pr_w4", [(28, 49)], 10, False, id="SJS-pr_w4-49"),
        pytest.param(SJOGREN, 1, "pr_w4", [(28, 50)], 10, True, id="SJS-pr_w4-50"),
        pytest.param(SJOGREN, 1, "pr_w4", [(28, 100)], 10, True, id="SJS-pr_w4-100"),
        pytest.param(SJOGREN, 1, "pr_w4", [(28, 101)], 10, False, id="SJS-pr_w4-101-is-CR"),
        pytest.param(SJOGREN, 1, "pr_w8", [(56, 49)], 10, False, id="SJS-pr_w8-49"),
        pytest.param(SJOGREN, 1, "pr_w8", [(56, 50)], 10, True, id="SJS-pr_w8-50"),
        pytest.param(SJOGREN, 1, "pr_w8", [(56, 100)], 10, True, id="SJS-pr_w8-100"),
        pytest.param(SJOGREN, 1, "pr_w8", [(56, 101)], 10, False, id="SJS-pr_w8-101-is-CR"),
        pytest.param(SJOGREN, 1, "pr_w12", [(84, 49)], 10, False, id="SJS-pr_w12-49"),
        pytest.param(SJOGREN, 1, "pr_w12", [(84, 50)], 10, True, id="SJS-pr_w12-50"),
        pytest.param(SJOGREN, 1, "pr_w12", [(84, 100)], 10, True, id="SJS-pr_w12-100"),
        pytest.param(SJOGREN, 1, "pr_w12", [(84, 101)], 10, False, id="SJS-pr_w12-101-is-CR"),
        pytest.param(SJOGREN, 1, "pr_w12", [(81, 60)], 10, True, id="SJS-pr_w12-window-start"),
    ],
)  # fmt: skip
def test_threshold_boundaries(
    registry_id: str,
    version: int,
    code: str,
    counts: list[tuple[int, Number]],
    baseline: Number,
    met: bool,
) -> None:
    result = evaluate(registry_id, code, course(counts, baseline=baseline), version)
    assert outcome(result) == (met, None, None)


def test_nct05694130_pr_excludes_cr_detail() -> None:
    result = evaluate(SJOGREN, "pr_w12", course([(84, 101)]))
    assert result.detail == (
        "CR: PLT 101 on 2025-03-26 > 100; bleeding not assessed; rescue not assessed; needs PR"
    )


def test_nct05471050_v2_detail() -> None:
    result = evaluate(TAC_DAN, SR6M, course([(180, 50)]), version=2)
    assert result.detail == (
        "NR: PLT 50 on 2025-06-30 meets no level (R needs > 50); bleeding not assessed; "
        "no rescue since day 1; needs R or better"
    )
