"""The endpoint engine against the endpoint definitions shipped in ``trials/protocols/*.yaml``.

Each protocol file is loaded into the database as the product loads it (``load_protocol``, once per
session in conftest), and its design is read back from the database (jsonb on PostgreSQL, as in CI)
and built into specs by ``visits.endpoints.evaluation`` exactly as the product does,
and small patient courses are evaluated at the boundaries of each trial's own definitions, so that
a change to a protocol file or to the engine that moves a boundary fails here.

Day n below is day 1 + n days (``time_point.day: 180`` targets day(180)); D1 is 2025-01-01, so
day 180 is 2025-06-30 and the 6-month window (day 166 to 194) runs 2025-06-16 to 2025-07-14.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ecrf.domain.endpoints import (
    BleedingObservation,
    EndpointResult,
    EndpointSpec,
    Observation,
    PatientCourse,
    RescueEpisode,
    ResponseCriteria,
    assess_visits,
    evaluate_endpoints,
    parse_response_criteria,
)
from trials.models import ProtocolVersion
from visits.endpoints.evaluation import endpoint_specs as stored_endpoint_specs

D1 = date(2025, 1, 1)

TAC_DAN = "NCT05471050"  # tacrolimus + danazol, ITP (version 1 registry, version 2 ASH 2023)
RTX_ATRA = "NCT03304288"  # low-dose rituximab + ATRA, ITP
AIC = "NCT03918265"  # tacrolimus, autoimmune cytopenia (AIHA, PRCA, Evans)
SJOGREN = "NCT05694130"  # prednisolone +/- tacrolimus, Sjögren's thrombocytopenia

Number = int | str  # written as text where the decimal matters ("29.9")

SR6M = "sustained_response_6m"  # NCT05471050 primary (v1: ongoing confirmed IWG R; v2: PLT > 50)
OR1Y = "overall_response_1y"  # NCT03304288 primary
CR1Y = "complete_response_1y"
W4 = "initial_response_w4"


# --- Loading the shipped protocols -------------------------------------------------------------

# (registry id, version number) → the endpoint specs and response criteria read back from the
# database. The shipped files are loaded into the test database once per session (conftest); the
# design is read back from there because PostgreSQL stores it as jsonb, which does not keep the
# files' key order — the engine must get the same answers from what the product really reads.
_STORED: dict[tuple[str, int], tuple[dict[str, EndpointSpec], ResponseCriteria]] = {}


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stored_design(db) -> None:
    if _STORED:
        return
    for version in ProtocolVersion.objects.select_related("study"):
        fresh = ProtocolVersion.objects.get(pk=version.pk)  # as stored, not as written
        specs = {spec.code: spec for spec in stored_endpoint_specs(fresh)}
        criteria = parse_response_criteria(fresh.response_criteria or {})
        _STORED[(version.study.registry_id, version.number)] = (specs, criteria)


def endpoint_specs(registry_id: str, version: int = 1) -> dict[str, EndpointSpec]:
    """The version's endpoints as the product builds them from the stored rows."""
    return _STORED[(registry_id, version)][0]


def protocol_criteria(registry_id: str, version: int = 1) -> ResponseCriteria:
    return _STORED[(registry_id, version)][1]


def evaluate(
    registry_id: str, code: str, patient: PatientCourse, version: int = 1
) -> EndpointResult:
    """Evaluates all of the version's endpoints, as the product does, and returns one."""
    specs = list(endpoint_specs(registry_id, version).values())
    return evaluate_endpoints(specs, patient)[code]


# --- Patient course builders -------------------------------------------------------------------


def day(n: int) -> date:
    return D1 + timedelta(days=n)


def observations(values: Sequence[tuple[int, Number]]) -> list[Observation]:
    return [Observation(day(n), Decimal(str(value))) for n, value in values]


def rescue(
    start: int, stop: int | None, *, itp_directed: bool = True, therapy: str = "IVIG"
) -> RescueEpisode:
    return RescueEpisode(day(start), None if stop is None else day(stop), itp_directed, therapy)


def course(
    counts: Sequence[tuple[int, Number]] = (),
    *,
    baseline: Number | None = 20,
    baseline_day: int = -3,
    bleeding: Sequence[tuple[int, int]] = (),
    rescue: Sequence[RescueEpisode] = (),
    hb: Sequence[tuple[int, Number]] = (),
    transfusions: Sequence[int] = (),
    scores: dict[str, Sequence[tuple[int, Number]]] | None = None,
    as_of: int = 400,
    withdrawn: int | None = None,
) -> PatientCourse:
    """A patient whose baseline platelet count was taken `baseline_day` days before day 1."""
    before = [] if baseline is None else [(baseline_day, baseline)]
    return PatientCourse(
        day1=D1,
        as_of=day(as_of),
        platelets=observations([*before, *counts]),
        haemoglobin=observations(hb),
        bleeding=[BleedingObservation(day(n), grade) for n, grade in bleeding],
        rescue=list(rescue),
        transfusions=[day(n) for n in transfusions],
        scores={name: observations(values) for name, values in (scores or {}).items()},
        withdrawn_on=None if withdrawn is None else day(withdrawn),
    )


def outcome(result: EndpointResult) -> tuple[bool | None, Any, bool | None]:
    return result.met, result.value, result.event


def pair(first: int, second: int, value: Number) -> list[tuple[int, Number]]:
    return [(first, value), (second, value)]


# --- What the files define -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registry_id", "version", "codes", "primary"),
    [
        pytest.param(
            TAC_DAN,
            1,
            [
                SR6M,
                "complete_response",
                "response",
                "time_to_response",
                "duration_of_response",
                "peak_platelet_count",
            ],
            [SR6M],
            id="NCT05471050-v1",
        ),
        pytest.param(
            TAC_DAN,
            2,
            [
                SR6M,
                "complete_response",
                "response",
                "time_to_response",
                "duration_of_response",
                "peak_platelet_count",
            ],
            [SR6M],
            id="NCT05471050-v2",
        ),
        pytest.param(
            RTX_ATRA,
            1,
            [OR1Y, "sustained_response", CR1Y, "time_to_response", "duration_of_response", W4],
            [OR1Y],
            id="NCT03304288",
        ),
        pytest.param(
            AIC,
            1,
            [
                "hb_6m",
                "plt_6m",
                "hb_24m",
                "plt_24m",
                "hb_response_6m",
                "hb_response_24m",
                "prca_response_6m",
                "prca_response_24m",
                "plt_response_6m",
                "plt_response_24m",
            ],
            ["hb_6m", "plt_6m"],
            id="NCT03918265",
        ),
        pytest.param(
            SJOGREN,
            1,
            [
                "cr_w12",
                "cr_w4",
                "cr_w8",
                "pr_w4",
                "pr_w8",
                "pr_w12",
                "essdai_change_w12",
                "esspri_change_w12",
            ],
            ["cr_w12"],
            id="NCT05694130",
        ),
    ],
)
def test_shipped_endpoints(
    registry_id: str, version: int, codes: list[str], primary: list[str]
) -> None:
    specs = endpoint_specs(registry_id, version)
    assert list(specs) == codes
    assert [code for code, spec in specs.items() if spec.primary] == primary


def test_amendment_2_restates_only_the_primary_endpoint() -> None:
    version_1 = endpoint_specs(TAC_DAN, 1)
    version_2 = endpoint_specs(TAC_DAN, 2)
    unchanged = [code for code in version_1 if version_1[code] == version_2[code]]
    assert unchanged == [
        "complete_response",
        "response",
        "time_to_response",
        "duration_of_response",
        "peak_platelet_count",
    ]
    primary = version_2[SR6M].criteria
    assert [level.code for level in primary.platelet_levels] == ["R"]
    assert (primary.bleeding, primary.confirmation) == (None, None)
    assert primary.rescue is not None and primary.rescue.since_start


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
        pytest.param(
            SJOGREN,
            100,
            10,
            "PR: PLT 100 on 2025-01-15 ≥ 50 and ≤ 100; bleeding not assessed; rescue not assessed",
            id="NCT05694130-exactly-100",
        ),
    ],
)
def test_count_detail(registry_id: str, count: Number, baseline: Number, detail: str) -> None:
    visits = assess_visits(protocol_criteria(registry_id), course([(14, count)], baseline=baseline))
    assert [visit.detail for visit in visits] == [detail]


@pytest.mark.parametrize(
    ("registry_id", "count", "bleeding", "rescues", "expected"),
    [
        pytest.param(
            TAC_DAN, 60, [(14, 1)], [], ("NR", True, False), id="NCT05471050-bleed-same-day"
        ),
        pytest.param(
            TAC_DAN, 60, [(13, 4)], [], ("R", False, False), id="NCT05471050-bleed-day-before"
        ),
        pytest.param(TAC_DAN, 60, [(14, 0)], [], ("R", False, False), id="NCT05471050-who-grade-0"),
        pytest.param(
            RTX_ATRA, 60, [(14, 1)], [], ("NR", True, False), id="NCT03304288-bleed-same-day"
        ),
        pytest.param(
            RTX_ATRA, 60, [(13, 1)], [], ("R", False, False), id="NCT03304288-bleed-day-before"
        ),
        pytest.param(
            SJOGREN, 150, [(14, 4)], [], ("CR", False, False), id="NCT05694130-bleeding-ignored"
        ),
        pytest.param(
            SJOGREN,
            150,
            [],
            [rescue(10, None)],
            ("CR", False, False),
            id="NCT05694130-rescue-ignored",
        ),
        # Look-back of 28 days: the rescue window of a day-14 count is day -14 to day 14.
        pytest.param(
            TAC_DAN,
            60,
            [],
            [rescue(-20, -14)],
            ("NR", False, True),
            id="NCT05471050-rescue-stop-28d-before",
        ),
        pytest.param(
            TAC_DAN,
            60,
            [],
            [rescue(-20, -15)],
            ("R", False, False),
            id="NCT05471050-rescue-stop-29d-before",
        ),
        pytest.param(
            TAC_DAN,
            60,
            [],
            [rescue(14, 20)],
            ("NR", False, True),
            id="NCT05471050-rescue-starts-count-day",
        ),
        pytest.param(
            TAC_DAN,
            60,
            [],
            [rescue(5, 10, itp_directed=False)],
            ("R", False, False),
            id="NCT05471050-non-itp-therapy",
        ),
        pytest.param(
            RTX_ATRA,
            60,
            [],
            [rescue(-20, -14)],
            ("NR", False, True),
            id="NCT03304288-rescue-stop-28d-before",
        ),
        pytest.param(
            RTX_ATRA,
            60,
            [],
            [rescue(-20, -15)],
            ("R", False, False),
            id="NCT03304288-rescue-stop-29d-before",
        ),
    ],
)
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
        pytest.param(
            TAC_DAN, 1, "complete_response", pair(90, 98, 100), 50, True, id="v1-CR-100-2x"
        ),
        pytest.param(
            TAC_DAN, 1, "complete_response", pair(90, 98, "99.9"), 10, False, id="v1-CR-99.9"
        ),
        pytest.param(
            TAC_DAN, 1, "complete_response", pair(90, 98, 100), 51, False, id="v1-CR-under-2x"
        ),
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
)
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
        pytest.param(
            TAC_DAN, SR6M, pair(180, 188, 60), 400, False, id="v1-confirmed-after-the-count"
        ),
        pytest.param(
            TAC_DAN, SR6M, pair(186, 194, 60), 400, False, id="v1-confirmed-on-window-end"
        ),
        pytest.param(TAC_DAN, SR6M, pair(187, 195, 60), 400, False, id="v1-confirmed-1-day-late"),
        pytest.param(
            TAC_DAN, SR6M, pair(180, 187, 60), 190, False, id="v1-decided-once-the-count-is-in"
        ),
        pytest.param(TAC_DAN, SR6M, pair(172, 180, 60), 180, True, id="v1-confirmed-window-open"),
        pytest.param(
            TAC_DAN, SR6M, [(176, 60), (184, 60)], 400, False, id="v1-tie-earlier-unconfirmed"
        ),
        pytest.param(
            TAC_DAN, SR6M, [(178, 60), (188, 60)], 400, False, id="v1-nearest-not-yet-confirmed"
        ),
        pytest.param(
            TAC_DAN,
            SR6M,
            [(150, 60), (158, 60), (180, 60)],
            400,
            True,
            id="v1-confirmed-before-time-point",
        ),
        pytest.param(
            TAC_DAN, SR6M, [(172, 60), (176, 20), (180, 60)], 400, False, id="v1-NR-count-between"
        ),
        pytest.param(TAC_DAN, "response", pair(20, 27, 60), 400, False, id="v1-best-R-7-days"),
        pytest.param(TAC_DAN, "response", pair(20, 28, 60), 400, True, id="v1-best-R-8-days"),
        pytest.param(
            TAC_DAN, "complete_response", pair(20, 27, 100), 400, False, id="v1-best-CR-7-days"
        ),
        pytest.param(
            TAC_DAN, "complete_response", pair(20, 28, 100), 400, True, id="v1-best-CR-8-days"
        ),
        pytest.param(
            TAC_DAN, "response", pair(186, 194, 60), 400, True, id="v1-best-R-by-window-end"
        ),
        pytest.param(
            TAC_DAN, "response", pair(187, 195, 60), 400, False, id="v1-best-R-1-day-late"
        ),
        pytest.param(RTX_ATRA, OR1Y, pair(360, 366, 60), 400, False, id="RTX-6-days"),
        pytest.param(RTX_ATRA, OR1Y, pair(360, 367, 60), 400, False, id="RTX-7-days"),
        pytest.param(RTX_ATRA, OR1Y, pair(360, 368, 60), 400, True, id="RTX-8-days"),
        pytest.param(RTX_ATRA, CR1Y, pair(360, 367, 100), 400, False, id="RTX-CR-7-days"),
        pytest.param(RTX_ATRA, CR1Y, pair(360, 368, 100), 400, True, id="RTX-CR-8-days"),
        pytest.param(RTX_ATRA, W4, [(28, 60)], 400, True, id="RTX-w4-needs-no-confirmation"),
    ],
)
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
        pytest.param(
            TAC_DAN, pair(20, 27, 60), (None, 27, False), id="NCT05471050-7-days-censored"
        ),
        pytest.param(
            TAC_DAN, pair(190, 198, 60), (None, 190, False), id="NCT05471050-after-horizon"
        ),
        pytest.param(RTX_ATRA, pair(20, 28, 60), (None, 20, True), id="NCT03304288-8-days"),
        pytest.param(
            RTX_ATRA, pair(20, 27, 60), (None, 27, False), id="NCT03304288-7-days-censored"
        ),
    ],
)
def test_time_to_response(
    registry_id: str, counts: list[tuple[int, Number]], expected: tuple[None, int, bool]
) -> None:
    assert outcome(evaluate(registry_id, "time_to_response", course(counts))) == expected


# --- Bleeding and rescue at the time point ------------------------------------------------------


@pytest.mark.parametrize(
    ("registry_id", "version", "code", "counts", "bleeding", "rescues", "met"),
    [
        # NCT05471050 v1: bleeding window 0 days; rescue look-back 28 days (day 152 to 180). The
        # day-180 count must lie in a response confirmed on or before it (here from day 172, or
        # from day 14 for a responder since week 2).
        pytest.param(TAC_DAN, 1, SR6M, pair(172, 180, 60), [], [], True, id="v1-clean"),
        pytest.param(
            TAC_DAN, 1, SR6M, pair(172, 180, 60), [(180, 1)], [], False, id="v1-bleed-on-count-day"
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            pair(172, 180, 60),
            [(171, 1)],
            [],
            True,
            id="v1-bleed-day-before-first-count",
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            pair(172, 180, 60),
            [(176, 1)],
            [],
            False,
            id="v1-bleed-between-count-and-confirmation",
        ),
        # In an established response, bleeding is a loss (loss.bleeding defaults to true): the
        # day-180 count qualifies but starts a new response that needs its own confirmation.
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            [(14, 60), (22, 60), (150, 60), (180, 60)],
            [(179, 1)],
            [],
            False,
            id="v1-responder-bleeds-day-before-loses-response",
        ),
        # Re-confirmed only after the 6-month count: a new response, not a maintained one.
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            [(14, 60), (22, 60), (150, 60), (180, 60), (188, 60)],
            [(179, 1)],
            [],
            False,
            id="v1-responder-bleeds-day-before-reconfirmed-after",
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            [(14, 60), (22, 60), (150, 60), (170, 60), (180, 60)],
            [(160, 1)],
            [],
            True,
            id="v1-responder-bleeds-then-reconfirmed-by-month-6",
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            [(14, 60), (22, 60), (150, 60), (180, 60)],
            [],
            [],
            True,
            id="v1-responder-no-bleeding",
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            [(14, 60), (22, 60), (180, 60)],
            [],
            [rescue(140, 152)],
            False,
            id="v1-rescue-stopped-28-days-before",
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            [(14, 60), (22, 60), (180, 60)],
            [],
            [rescue(140, 151)],
            True,
            id="v1-rescue-stopped-29-days-before",
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            pair(172, 180, 60),
            [],
            [rescue(10, 20)],
            True,
            id="v1-early-rescue-outside-look-back",
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            pair(172, 180, 60),
            [],
            [rescue(170, 175, itp_directed=False)],
            True,
            id="v1-non-itp-therapy",
        ),
        # NCT05471050 v2: no bleeding rule; no ITP-directed rescue at any time since day 1.
        pytest.param(TAC_DAN, 2, SR6M, [(180, 60)], [(180, 4)], [], True, id="v2-bleeding-ignored"),
        pytest.param(
            TAC_DAN, 2, SR6M, [(180, 60)], [], [rescue(10, 20)], False, id="v2-rescue-months-before"
        ),
        pytest.param(
            TAC_DAN, 2, SR6M, [(180, 60)], [], [rescue(1, 1)], False, id="v2-rescue-on-day-2"
        ),
        pytest.param(
            TAC_DAN, 2, SR6M, [(180, 60)], [], [rescue(-30, -1)], True, id="v2-rescue-before-day-1"
        ),
        pytest.param(
            TAC_DAN,
            2,
            SR6M,
            [(180, 60)],
            [],
            [rescue(185, 190)],
            True,
            id="v2-rescue-after-the-count",
        ),
        pytest.param(
            TAC_DAN,
            2,
            SR6M,
            [(180, 60)],
            [],
            [rescue(10, 20, itp_directed=False)],
            True,
            id="v2-non-itp-therapy",
        ),
        # NCT03304288: same IWG rules at day 360 (look-back day 332 to 360).
        pytest.param(
            RTX_ATRA,
            1,
            OR1Y,
            pair(360, 368, 60),
            [(360, 1)],
            [],
            False,
            id="RTX-bleed-on-count-day",
        ),
        pytest.param(
            RTX_ATRA, 1, OR1Y, pair(360, 368, 60), [(359, 1)], [], True, id="RTX-bleed-day-before"
        ),
        pytest.param(
            RTX_ATRA,
            1,
            OR1Y,
            pair(360, 368, 60),
            [],
            [rescue(320, 332)],
            False,
            id="RTX-rescue-stopped-28-days-before",
        ),
        pytest.param(
            RTX_ATRA,
            1,
            OR1Y,
            pair(360, 368, 60),
            [],
            [rescue(320, 331)],
            True,
            id="RTX-rescue-stopped-29-days-before",
        ),
        pytest.param(
            RTX_ATRA, 1, W4, [(28, 60)], [(28, 1)], [], False, id="RTX-w4-bleed-on-count-day"
        ),
        # NCT05694130: the count alone decides.
        pytest.param(
            SJOGREN, 1, "cr_w12", [(84, 150)], [(84, 4)], [], True, id="SJS-cr-bleeding-ignored"
        ),
        pytest.param(
            SJOGREN,
            1,
            "cr_w12",
            [(84, 150)],
            [],
            [rescue(80, None)],
            True,
            id="SJS-cr-rescue-ignored",
        ),
        pytest.param(
            SJOGREN, 1, "pr_w12", [(84, 60)], [(84, 3)], [], True, id="SJS-pr-bleeding-ignored"
        ),
    ],
)
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


# --- Loss of response and regain ------------------------------------------------------------------

# R confirmed on day 14/22, lost on day 42 (two counts < 2× baseline 20, 2 days apart), regained
# on day 70/78 and still in response on day 90.
LOSS_THEN_REGAIN = [(14, 60), (22, 60), (42, 20), (44, 20), (70, 60), (78, 60), (90, 60)]


@pytest.mark.parametrize("registry_id", [TAC_DAN, RTX_ATRA])
@pytest.mark.parametrize(
    ("counts", "bleeding", "expected"),
    [
        pytest.param(LOSS_THEN_REGAIN, [], (None, 28, True), id="loss-then-regain"),
        pytest.param(
            [(14, 60), (22, 60), (42, 60), (56, 60), (70, 60), (78, 60), (90, 60)],
            [],
            (None, 76, False),
            id="never-lost",
        ),
        pytest.param(
            [(14, 60), (22, 60), (42, 20), (43, 20), (70, 60), (78, 60), (90, 60)],
            [],
            (None, 76, False),
            id="two-low-counts-1-day-apart-not-a-loss",
        ),
        pytest.param(
            [(14, 60), (22, 60), (42, 20), (56, 60), (70, 60), (78, 60), (90, 60)],
            [],
            (None, 76, False),
            id="single-low-count-not-a-loss",
        ),
        pytest.param(
            [(14, 60), (22, 60), (42, 60), (56, 60), (70, 60), (78, 60), (90, 60)],
            [(30, 1)],
            (None, 16, True),
            id="lost-by-bleeding",
        ),
        pytest.param([(14, 60), (21, 60)], [], (None, None, None), id="never-confirmed"),
    ],
)
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
        pytest.param(
            TAC_DAN, 1, "complete_response", pair(14, 22, 60), 193, None, id="v1-best-CR-open"
        ),
        pytest.param(
            TAC_DAN, 1, "complete_response", pair(14, 22, 60), 194, False, id="v1-best-CR-closed"
        ),
        pytest.param(RTX_ATRA, 1, OR1Y, [], 373, None, id="RTX-1y-open"),
        pytest.param(RTX_ATRA, 1, OR1Y, [], 374, False, id="RTX-1y-closed"),
        pytest.param(RTX_ATRA, 1, W4, [(25, 60)], 29, None, id="RTX-w4-open"),
        pytest.param(RTX_ATRA, 1, W4, [(25, 60)], 30, False, id="RTX-w4-closed"),
        pytest.param(SJOGREN, 1, "cr_w12", [(56, 150)], 86, None, id="SJS-w12-open"),
        pytest.param(SJOGREN, 1, "cr_w12", [(56, 150)], 87, False, id="SJS-w12-closed"),
        pytest.param(SJOGREN, 1, "pr_w4", [(24, 60)], 400, False, id="SJS-pr_w4-day-before-window"),
    ],
)
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
        pytest.param(
            194,
            "no assessment in window 2025-06-16 to 2025-07-14: counted as non-responder",
            id="closed",
        ),
        pytest.param(
            193, "no assessment yet in window 2025-06-16 to 2025-07-14 as of 2025-07-13", id="open"
        ),
    ],
)
def test_missing_assessment_detail(as_of: int, detail: str) -> None:
    result = evaluate(TAC_DAN, SR6M, course(pair(150, 158, 60), as_of=as_of))
    assert result.detail == detail


# --- Withdrawal ----------------------------------------------------------------------------------

RESPONDER_THEN_LATE_COUNTS = [(14, 60), (22, 60), (170, 60), (178, 60), (360, 60), (368, 60)]


# Data after the withdrawal are ignored; an assessment inside the window on or before the
# withdrawal date is used as usual; only without one is the result a non-response (or no value).
@pytest.mark.parametrize(
    ("registry_id", "version", "code", "patient", "expected"),
    [
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            course(RESPONDER_THEN_LATE_COUNTS, withdrawn=150),
            (False, None, None),
            id="v1-primary-withdrawn-before-window",
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            course(RESPONDER_THEN_LATE_COUNTS, withdrawn=178),
            (True, None, None),
            id="v1-primary-withdrawn-in-window-after-counts",
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            course(pair(172, 180, 60), withdrawn=181),
            (True, None, None),
            id="v1-primary-withdrawn-after-confirmation",
        ),
        pytest.param(
            TAC_DAN,
            1,
            SR6M,
            course([(14, 60), (22, 60), (170, 60), (180, 20), (182, 20)], withdrawn=175),
            (True, None, None),
            id="v1-primary-later-counts-ignored",
        ),
        pytest.param(
            TAC_DAN,
            1,
            "response",
            course(RESPONDER_THEN_LATE_COUNTS, withdrawn=150),
            (True, None, None),
            id="v1-response-before-withdrawal-counts",
        ),
        pytest.param(
            TAC_DAN,
            1,
            "time_to_response",
            course([(14, 20), (28, 20), (170, 60), (178, 60)], withdrawn=60),
            (None, 28, False),
            id="v1-ttr-censored",
        ),
        pytest.param(
            TAC_DAN,
            1,
            "duration_of_response",
            course([(14, 60), (22, 60), (42, 60), (70, 20), (72, 20)], withdrawn=60),
            (None, 28, False),
            id="v1-dor-censored",
        ),
        pytest.param(
            TAC_DAN,
            2,
            SR6M,
            course([(180, 60)], withdrawn=179),
            (False, None, None),
            id="v2-withdrawn-day-before",
        ),
        pytest.param(
            TAC_DAN,
            2,
            SR6M,
            course([(180, 60)], withdrawn=180),
            (True, None, None),
            id="v2-withdrawn-on-the-day",
        ),
        pytest.param(
            TAC_DAN,
            2,
            SR6M,
            course([(170, 60), (180, 40)], withdrawn=175),
            (True, None, None),
            id="v2-count-before-withdrawal-in-window",
        ),
        pytest.param(
            RTX_ATRA,
            1,
            OR1Y,
            course(RESPONDER_THEN_LATE_COUNTS, withdrawn=300),
            (False, None, None),
            id="RTX-1y-withdrawn-before",
        ),
        pytest.param(
            RTX_ATRA,
            1,
            OR1Y,
            course(RESPONDER_THEN_LATE_COUNTS, withdrawn=360),
            (True, None, None),
            id="RTX-1y-withdrawn-on-the-count-day",
        ),
        pytest.param(
            RTX_ATRA,
            1,
            OR1Y,
            course(pair(360, 368, 60), withdrawn=365),
            (False, None, None),
            id="RTX-1y-withdrawn-before-confirmation",
        ),
        pytest.param(
            RTX_ATRA,
            1,
            "time_to_response",
            course([(14, 20), (28, 20), (170, 60), (178, 60)], withdrawn=60),
            (None, 28, False),
            id="RTX-ttr-censored",
        ),
        pytest.param(
            RTX_ATRA,
            1,
            "sustained_response",
            course([(n, 60) for n in range(30, 240, 30)], withdrawn=200),
            (False, None, None),
            id="RTX-sustained-withdrawn",
        ),
        pytest.param(
            RTX_ATRA,
            1,
            "sustained_response",
            course([(n, 60) for n in range(30, 240, 30)], withdrawn=215),
            (True, 180, None),
            id="RTX-sustained-complete-before-withdrawal",
        ),
        pytest.param(
            SJOGREN,
            1,
            "cr_w12",
            course([(84, 150)], withdrawn=60),
            (False, None, None),
            id="SJS-cr_w12-withdrawn",
        ),
        pytest.param(
            SJOGREN,
            1,
            "cr_w12",
            course([(82, 150)], withdrawn=83),
            (True, None, None),
            id="SJS-cr_w12-count-before-withdrawal-in-window",
        ),
        pytest.param(
            SJOGREN,
            1,
            "cr_w12",
            course([(82, 150), (84, 60)], withdrawn=83),
            (True, None, None),
            id="SJS-cr_w12-nearer-count-after-withdrawal-ignored",
        ),
        pytest.param(
            SJOGREN,
            1,
            "pr_w12",
            course([(82, 150)], withdrawn=83),
            (False, None, None),
            id="SJS-pr_w12-count-before-withdrawal-is-CR",
        ),
        pytest.param(
            SJOGREN,
            1,
            "essdai_change_w12",
            course(scores={"ESSDAI": [(0, 10), (82, 5)]}, withdrawn=83),
            (True, Decimal(-5), None),
            id="SJS-essdai-score-before-withdrawal",
        ),
        pytest.param(
            SJOGREN,
            1,
            "essdai_change_w12",
            course(scores={"ESSDAI": [(0, 10), (82, 9), (84, 4)]}, withdrawn=83),
            (False, Decimal(-1), None),
            id="SJS-essdai-later-score-ignored",
        ),
        pytest.param(
            SJOGREN,
            1,
            "esspri_change_w12",
            course(scores={"ESSPRI": [(0, 6), (84, 5)]}, withdrawn=83),
            (False, None, None),
            id="SJS-esspri-score-after-withdrawal",
        ),
        pytest.param(
            AIC,
            1,
            "hb_6m",
            course(baseline=None, hb=[(168, 110)], withdrawn=170),
            (None, Decimal(110), None),
            id="AIC-hb_6m-value-before-withdrawal",
        ),
        pytest.param(
            AIC,
            1,
            "hb_6m",
            course(baseline=None, hb=[(168, 110), (180, 90)], withdrawn=170),
            (None, Decimal(110), None),
            id="AIC-hb_6m-nearer-value-after-withdrawal-ignored",
        ),
        pytest.param(
            AIC,
            1,
            "plt_6m",
            course([(170, 45)], baseline=None, withdrawn=170),
            (None, Decimal(45), None),
            id="AIC-plt_6m-value-on-withdrawal-day",
        ),
        pytest.param(
            AIC,
            1,
            "hb_response_6m",
            course(baseline=None, hb=[(0, 80), (168, 125)], withdrawn=170),
            (True, "CR", None),
            id="AIC-hb_response-value-before-withdrawal",
        ),
    ],
)
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
        pytest.param(
            SJOGREN,
            "cr_w12",
            course([(82, 150), (84, 60)], withdrawn=83),
            "CR: PLT 150 on 2025-03-24 > 100; bleeding not assessed; rescue not assessed",
            id="count-before-withdrawal",
        ),
        pytest.param(
            SJOGREN,
            "essdai_change_w12",
            course(scores={"ESSDAI": [(0, 10), (82, 5)]}, withdrawn=83),
            "ESSDAI 5 on 2025-03-24 − baseline 10 on 2025-01-01 = -5; MCII (fall ≥ 3) met",
            id="score-before-withdrawal",
        ),
        pytest.param(
            AIC,
            "hb_6m",
            course(baseline=None, hb=[(168, 110)], withdrawn=170),
            "HGB 110 on 2025-06-18 (nearest to 2025-06-30 in window 2025-06-16 to 2025-07-14)",
            id="value-before-withdrawal",
        ),
    ],
)
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


# --- NCT03304288: sustained response (PLT > 30 for 6 consecutive months) -------------------------


def monthly(first: int, last: int, value: Number) -> list[tuple[int, Number]]:
    return [(n, value) for n in range(first, last + 1, 30)]


# The 6 months start at the first count of a response confirmed under the protocol's criteria
# (R >= 30 and >= 2x baseline, or CR >= 100; confirmed > 7 days later); the endpoint's own criteria
# (> 30, no bleeding, no rescue) then apply to every count. Baseline 10 makes any count >= 30 an R.
@pytest.mark.parametrize(
    ("counts", "baseline", "bleeding", "rescues", "as_of", "expected"),
    [
        pytest.param(
            monthly(30, 210, 31), 10, [], [], 400, (True, 180, None), id="31-for-180-days"
        ),
        pytest.param(monthly(30, 210, "30.1"), 10, [], [], 400, (True, 180, None), id="30.1"),
        pytest.param(
            monthly(30, 210, 30), 10, [], [], 400, (False, None, None), id="exactly-30-is-not->30"
        ),
        pytest.param(
            [*monthly(30, 180, 31), (209, 31)], 10, [], [], 400, (False, None, None), id="179-days"
        ),
        # A count of 30 is still an R under the protocol (no loss, so no new response to start a
        # new period from) but not > 30: it ends the maintenance for good.
        pytest.param(
            [*monthly(30, 90, 31), (120, 30), *monthly(150, 330, 31)],
            10,
            [],
            [],
            400,
            (False, None, None),
            id="dip-to-30-without-loss-ends-it",
        ),
        pytest.param(
            [*monthly(30, 90, 31), (120, 20), (122, 20), *monthly(150, 330, 31)],
            10,
            [],
            [],
            400,
            (True, 180, None),
            id="new-response-after-a-loss-starts-a-new-period",
        ),
        pytest.param(
            monthly(30, 210, 31),
            10,
            [(100, 1)],
            [],
            400,
            (False, None, None),
            id="bleeding-in-run",
        ),
        pytest.param(
            monthly(30, 210, 31),
            10,
            [],
            [rescue(100, 101)],
            400,
            (False, None, None),
            id="rescue-in-run",
        ),
        pytest.param(
            monthly(200, 380, 31),
            10,
            [],
            [],
            400,
            (False, None, None),
            id="run-ends-after-horizon-374",
        ),
        pytest.param(
            monthly(30, 150, 31), 10, [], [], 160, (None, None, None), id="run-open-at-data-cut"
        ),
        # No response was ever achieved: 31 < 2 x 25, whatever the run of counts > 30.
        pytest.param(
            monthly(30, 210, 31), 25, [], [], 400, (False, None, None), id="31-under-2x-baseline-25"
        ),
        pytest.param(
            [*pair(30, 38, 40), *monthly(60, 210, 31)],
            20,
            [],
            [],
            400,
            (True, 180, None),
            id="confirmed-PR-then-6-months-over-30",
        ),
        pytest.param(
            [*pair(30, 37, 40), *monthly(60, 210, 31)],
            20,
            [],
            [],
            400,
            (False, None, None),
            id="PR-confirmed-7-days-later-is-not-confirmed",
        ),
        pytest.param(
            [*pair(30, 38, 100), *monthly(60, 210, 31)],
            60,
            [],
            [],
            400,
            (True, 180, None),
            id="confirmed-CR-needs-no-fold-of-baseline",
        ),
        pytest.param(
            [(30, 30), (38, 31), *monthly(60, 240, 31)],
            15,
            [],
            [],
            400,
            (False, None, None),
            id="response-first-count-30-is-not->30",
        ),
        pytest.param(
            [*pair(30, 38, 40), *monthly(60, 210, 31)],
            20,
            [(34, 1)],
            [],
            400,
            (False, None, None),
            id="bleeding-breaks-the-confirmation",
        ),
    ],
)
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


# --- NCT05471050: peak platelet count within 6 months --------------------------------------------


@pytest.mark.parametrize(
    ("counts", "value", "detail"),
    [
        pytest.param(
            [(14, 60), (100, 90), (150, 90), (194, 95), (195, 200)],
            95,
            "peak PLAT 95 on 2025-07-14 (highest of 4 values from 2025-01-15 to 2025-07-14)",
            id="horizon-is-window-end",
        ),
        pytest.param(
            [(14, 60), (100, 90), (150, 90)],
            90,
            "peak PLAT 90 on 2025-04-11 (highest of 3 values from 2025-01-15 to 2025-05-31)",
            id="earliest-of-ties",
        ),
    ],
)
def test_nct05471050_peak_platelet_count(
    counts: list[tuple[int, Number]], value: int, detail: str
) -> None:
    result = evaluate(TAC_DAN, "peak_platelet_count", course(counts, baseline=300))
    assert outcome(result) == (None, value, None)
    assert result.detail == detail


# --- NCT03918265: Hb and platelets at 6 months and 2 years ---------------------------------------


@pytest.mark.parametrize(
    ("code", "hb", "platelets", "as_of", "value"),
    [
        pytest.param(
            "hb_6m",
            [(160, 95), (170, 100), (185, 105), (200, 110)],
            [],
            400,
            "105",
            id="hb_6m-nearest",
        ),
        pytest.param(
            "hb_6m", [(175, 100), (185, 105)], [], 400, "100", id="hb_6m-tie-takes-earlier"
        ),
        pytest.param("hb_6m", [(166, "92.5")], [], 400, "92.5", id="hb_6m-window-start"),
        pytest.param("hb_6m", [(165, 92), (195, 93)], [], 400, None, id="hb_6m-none-in-window"),
        pytest.param("hb_6m", [(170, 100)], [], 175, None, id="hb_6m-nearer-may-follow"),
        pytest.param("hb_6m", [(170, 100)], [], 194, "100", id="hb_6m-window-closed"),
        pytest.param("plt_6m", [], [(180, 45), (181, 50)], 400, "45", id="plt_6m-on-target"),
        pytest.param("plt_6m", [(180, 120)], [(194, 80)], 400, "80", id="plt_6m-window-end"),
        pytest.param(
            "hb_24m", [(690, 90), (720, 118), (745, 121)], [], 900, "118", id="hb_24m-nearest"
        ),
        pytest.param("hb_24m", [(700, 95)], [], 900, "95", id="hb_24m-window-start"),
        pytest.param("hb_24m", [(699, 95), (761, 96)], [], 900, None, id="hb_24m-none-in-window"),
        pytest.param("plt_24m", [], [(760, 150)], 900, "150", id="plt_24m-window-end"),
        pytest.param(
            "plt_24m", [], [(180, 60), (761, 150)], 900, None, id="plt_24m-none-in-window"
        ),
    ],
)
def test_nct03918265_values_at_time_points(
    code: str,
    hb: list[tuple[int, Number]],
    platelets: list[tuple[int, Number]],
    as_of: int,
    value: str | None,
) -> None:
    patient = course(platelets, baseline=None, hb=hb, as_of=as_of)
    expected = None if value is None else Decimal(value)
    assert outcome(evaluate(AIC, code, patient)) == (None, expected, None)


@pytest.mark.parametrize(
    ("code", "hb", "as_of", "detail"),
    [
        pytest.param(
            "hb_6m",
            [(160, 95), (170, 100), (185, 105), (200, 110)],
            400,
            "HGB 105 on 2025-07-05 (nearest to 2025-06-30 in window 2025-06-16 to 2025-07-14)",
            id="nearest",
        ),
        pytest.param(
            "hb_6m",
            [(165, 92)],
            400,
            "no assessment in window 2025-06-16 to 2025-07-14: no value",
            id="missing",
        ),
        pytest.param(
            "hb_6m",
            [(170, 100)],
            175,
            "window 2025-06-16 to 2025-07-14 still open as of 2025-06-25: an assessment nearer "
            "2025-06-30 may follow",
            id="open",
        ),
    ],
)
def test_nct03918265_value_detail(
    code: str, hb: list[tuple[int, Number]], as_of: int, detail: str
) -> None:
    patient = course(baseline=None, hb=hb, as_of=as_of)
    assert evaluate(AIC, code, patient).detail == detail


@pytest.mark.parametrize(
    ("hb", "transfusions", "met", "response"),
    [
        pytest.param([(0, 80), (180, 120)], [], True, "CR", id="exactly-120"),
        pytest.param([(0, 80), (180, "119.9")], [], True, "PR", id="119.9-is-PR"),
        pytest.param([(0, 95), (180, 100)], [], True, "PR", id="exactly-100-rise-5"),
        pytest.param([(0, 80), (180, "99.9")], [], False, "NR", id="99.9-rise-19.9"),
        pytest.param([(0, 79), (180, 99)], [], True, "PR", id="99-rise-exactly-20"),
        pytest.param([(0, 79), (180, "98.9")], [], False, "NR", id="98.9-rise-19.9"),
        pytest.param([(-30, 79), (180, 99)], [], True, "PR", id="baseline-30-days-before"),
        pytest.param([(-31, 79), (180, 99)], [], False, "NR", id="baseline-too-old-no-rise-route"),
        pytest.param([(-10, 60), (-1, 79), (180, 99)], [], True, "PR", id="latest-baseline-used"),
        pytest.param([(0, 80), (180, 130)], [173], False, "NR", id="transfusion-7-days-before"),
        pytest.param([(0, 80), (180, 130)], [172], True, "CR", id="transfusion-8-days-before"),
        pytest.param([(0, 80), (180, 130)], [180], False, "NR", id="transfusion-same-day"),
        pytest.param([(0, 80), (180, 130)], [181], True, "CR", id="transfusion-day-after"),
        pytest.param([(0, 60), (180, 85)], [175], False, "NR", id="rise-route-transfused"),
        pytest.param([(0, 80), (170, 125), (185, 95)], [], False, "NR", id="nearest-value-decides"),
        pytest.param([(0, 80), (150, 125)], [], False, "NR", id="missing-in-window"),
    ],
)
def test_nct03918265_haemoglobin_response(
    hb: list[tuple[int, Number]], transfusions: list[int], met: bool, response: str
) -> None:
    patient = course(baseline=None, hb=hb, transfusions=transfusions)
    assert outcome(evaluate(AIC, "hb_response_6m", patient)) == (met, response, None)


@pytest.mark.parametrize(
    ("hb", "transfusions", "detail"),
    [
        pytest.param(
            [(0, 79), (180, 99)],
            [],
            "PR: Hb 99 on 2025-06-30 ≥ 100 or rise 20 ≥ 20 from baseline 79; "
            "no transfusion in prior 7 days",
            id="rise-route",
        ),
        pytest.param(
            [(0, 80), (180, "99.9")],
            [],
            "NR: Hb 99.9 on 2025-06-30 meets no level (PR needs ≥ 100 or rise 19.9 ≥ 20 from "
            "baseline 80); no transfusion in prior 7 days",
            id="no-level",
        ),
        pytest.param(
            [(0, 80), (180, 130)],
            [173],
            "NR: Hb 130 on 2025-06-30 ≥ 120 (CR by value); transfusion on 2025-06-23 within "
            "prior 7 days",
            id="transfused",
        ),
    ],
)
def test_nct03918265_haemoglobin_response_detail(
    hb: list[tuple[int, Number]], transfusions: list[int], detail: str
) -> None:
    patient = course(baseline=None, hb=hb, transfusions=transfusions)
    assert evaluate(AIC, "hb_response_6m", patient).detail == detail


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("hb_6m", (None, None, None), id="hb_6m-no-value"),
        pytest.param("plt_24m", (None, None, None), id="plt_24m-no-value"),
        pytest.param("hb_response_6m", (False, "NR", None), id="hb_response-non-responder"),
    ],
)
def test_nct03918265_withdrawal(code: str, expected: tuple[Any, Any, Any]) -> None:
    patient = course(
        [(180, 150), (730, 150)], hb=[(0, 80), (180, 125), (730, 125)], withdrawn=100, as_of=900
    )
    assert outcome(evaluate(AIC, code, patient)) == expected


# --- NCT05694130: ESSDAI and ESSPRI change at week 12 --------------------------------------------


@pytest.mark.parametrize(
    ("code", "values", "as_of", "met", "change"),
    [
        # ESSDAI: MCII is a fall of ≥ 3 points.
        pytest.param("essdai_change_w12", [(0, 10), (84, 7)], 400, True, "-3", id="ESSDAI-fall-3"),
        pytest.param("essdai_change_w12", [(0, 10), (84, 8)], 400, False, "-2", id="ESSDAI-fall-2"),
        pytest.param("essdai_change_w12", [(0, 10), (84, 13)], 400, False, "3", id="ESSDAI-rise-3"),
        pytest.param("essdai_change_w12", [(-5, 3), (84, 0)], 400, True, "-3", id="ESSDAI-3-to-0"),
        pytest.param(
            "essdai_change_w12", [(0, 10), (82, 9), (85, 7)], 400, True, "-3", id="ESSDAI-nearest"
        ),
        pytest.param(
            "essdai_change_w12",
            [(-20, 14), (0, 10), (84, 7)],
            400,
            True,
            "-3",
            id="ESSDAI-latest-baseline",
        ),
        pytest.param(
            "essdai_change_w12", [(0, 10), (80, 5), (88, 5)], 400, False, None, id="ESSDAI-missing"
        ),
        pytest.param("essdai_change_w12", [(0, 10)], 86, None, None, id="ESSDAI-window-open"),
        # ESSPRI: MCII is a fall of ≥ 1 point or ≥ 15 %.
        pytest.param("esspri_change_w12", [(0, 6), (84, 5)], 400, True, "-1", id="ESSPRI-fall-1"),
        pytest.param(
            "esspri_change_w12", [(0, 6), (84, "5.1")], 400, True, "-0.9", id="ESSPRI-fall-15pct"
        ),
        pytest.param(
            "esspri_change_w12", [(0, 6), (84, "5.2")], 400, False, "-0.8", id="ESSPRI-fall-13pct"
        ),
        pytest.param(
            "esspri_change_w12", [(0, 4), (84, "3.4")], 400, True, "-0.6", id="ESSPRI-4-fall-15pct"
        ),
        pytest.param(
            "esspri_change_w12",
            [(0, 4), (84, "3.5")],
            400,
            False,
            "-0.5",
            id="ESSPRI-4-fall-12.5pct",
        ),
        pytest.param("esspri_change_w12", [(0, 8), (84, 7)], 400, True, "-1", id="ESSPRI-8-fall-1"),
        pytest.param(
            "esspri_change_w12", [(0, 8), (84, "7.1")], 400, False, "-0.9", id="ESSPRI-8-fall-0.9"
        ),
        pytest.param("esspri_change_w12", [(0, 6)], 87, False, None, id="ESSPRI-missing"),
    ],
)
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
        pytest.param(
            "essdai_change_w12",
            {"ESSDAI": [(0, 10), (84, 7)]},
            "ESSDAI 7 on 2025-03-26 − baseline 10 on 2025-01-01 = -3; MCII (fall ≥ 3) met",
            id="ESSDAI-met",
        ),
        pytest.param(
            "essdai_change_w12",
            {"ESSDAI": [(0, 10), (84, 8)]},
            "ESSDAI 8 on 2025-03-26 − baseline 10 on 2025-01-01 = -2; MCII (fall ≥ 3) not met",
            id="ESSDAI-not-met",
        ),
        pytest.param(
            "esspri_change_w12",
            {"ESSPRI": [(0, 6), (84, "5.1")]},
            "ESSPRI 5.1 on 2025-03-26 − baseline 6 on 2025-01-01 = -0.9; "
            "MCII (fall ≥ 1 or fall ≥ 15%) met",
            id="ESSPRI-relative-route",
        ),
    ],
)
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


# --- NCT05471050 amendment: one course, two versions ---------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "counts", "bleeding", "rescues", "version_1", "version_2"),
    [
        pytest.param(40, pair(172, 180, 55), [], [], False, True, id="PLT-55-baseline-40-not-2x"),
        pytest.param(10, pair(172, 180, 45), [], [], True, False, id="PLT-45-baseline-10-not->50"),
        pytest.param(10, pair(172, 180, 50), [], [], True, False, id="PLT-exactly-50"),
        pytest.param(10, pair(172, 180, 51), [], [], True, True, id="PLT-51-both"),
        pytest.param(30, pair(172, 180, 55), [], [], False, True, id="PLT-55-baseline-30"),
        pytest.param(10, [(180, 60)], [], [], False, True, id="single-count-unconfirmed-in-v1"),
        pytest.param(10, pair(180, 188, 60), [], [], False, True, id="first-response-at-month-6"),
        pytest.param(
            10, pair(172, 180, 60), [(180, 2)], [], False, True, id="bleeding-on-count-day"
        ),
        pytest.param(
            10, pair(172, 180, 60), [], [rescue(10, 20)], True, False, id="rescue-days-10-to-20"
        ),
        pytest.param(
            10, pair(172, 180, 60), [], [rescue(140, 152)], False, False, id="rescue-in-look-back"
        ),
        pytest.param(10, pair(172, 180, 29), [], [], False, False, id="PLT-29-neither"),
    ],
)
def test_amendment_changes_the_primary_endpoint_result(
    baseline: int,
    counts: list[tuple[int, Number]],
    bleeding: list[tuple[int, int]],
    rescues: list[RescueEpisode],
    version_1: bool,
    version_2: bool,
) -> None:
    patient = course(counts, baseline=baseline, bleeding=bleeding, rescue=rescues)
    results = [evaluate(TAC_DAN, SR6M, patient, version) for version in (1, 2)]
    assert [outcome(result) for result in results] == [
        (version_1, None, None),
        (version_2, None, None),
    ]


def test_amendment_leaves_the_other_endpoints_results_unchanged() -> None:
    patient = course(
        [
            (14, 60),
            (22, 60),
            (42, 20),
            (44, 20),
            (90, 100),
            (98, 100),
            (150, 20),
            (152, 20),
            (180, 55),
        ]
    )
    version_1 = evaluate_endpoints(list(endpoint_specs(TAC_DAN, 1).values()), patient)
    version_2 = evaluate_endpoints(list(endpoint_specs(TAC_DAN, 2).values()), patient)
    assert {code: outcome(result) for code, result in version_1.items()} == {
        SR6M: (False, None, None),
        "complete_response": (True, None, None),
        "response": (True, None, None),
        "time_to_response": (None, 14, True),
        "duration_of_response": (None, 28, True),
        "peak_platelet_count": (None, Decimal(100), None),
    }
    assert {code: outcome(result) for code, result in version_2.items()} == {
        **{code: outcome(result) for code, result in version_1.items()},
        SR6M: (True, None, None),
    }
