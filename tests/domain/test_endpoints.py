"""Endpoint engine: parsing (error table), per-count classification and every endpoint kind at its
boundaries. Criteria are written in the protocol-file shape of docs/domain-contracts.md."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecrf.domain.endpoints import (
    BleedingObservation,
    ConfirmedBy,
    EndpointKind,
    EndpointResult,
    EndpointSpec,
    LevelMatch,
    Observation,
    PatientCourse,
    RescueEpisode,
    Threshold,
    assess_visits,
    build_endpoint_specs,
    evaluate_endpoint,
    evaluate_endpoints,
    merge_criteria,
    parse_response_criteria,
)
from ecrf.domain.errors import DomainError
from ecrf.domain.protocol_spec import resolve_protocol

D1 = date(2025, 1, 1)
PROTOCOLS = Path(__file__).resolve().parents[2] / "trials" / "protocols"


def day(n: int) -> date:
    return D1 + timedelta(days=n)


# IWG 2009 as in the contract example (NCT05471050 registry definitions).
IWG: dict[str, Any] = {
    "baseline": {"test_code": "PLAT", "window_days": 30},
    "levels": {
        "CR": {"rank": 1, "platelets": {"op": ">=", "value": 100}, "fold_of_baseline": None},
        "R": {"rank": 2, "platelets": {"op": ">=", "value": 30}, "fold_of_baseline": 2},
    },
    "bleeding": {"min_who_grade": 1, "window_days": 0},
    "rescue": {"lookback_days": 28, "itp_directed_only": True, "since_start": False},
    "confirmation": {"required": True, "min_days": 7, "inclusive": False},
    "loss": {"confirmations": 2, "min_days": 1, "inclusive": False},
}
SIX_MONTHS = {"day": 180, "window_before": 14, "window_after": 14}  # window day 166 to 194
BEST_R = {"code": "response", "kind": "best_response", "level": "R", "time_point": SIX_MONTHS}
R_AT_6M = {"code": "r6", "kind": "response_at_time_point", "level": "R", "time_point": SIX_MONTHS}
TTR = {"code": "ttr", "kind": "time_to_response", "level": "R"}
DOR = {"code": "dor", "kind": "duration_of_response", "level": "R"}


def course(
    counts: list[tuple[int, int]] = (),  # type: ignore[assignment]
    *,
    baseline: int | None = 12,
    baseline_day: int = -2,
    as_of: int = 400,
    bleeding: list[tuple[int, int]] = (),  # type: ignore[assignment]
    rescue: list[RescueEpisode] = (),  # type: ignore[assignment]
    withdrawn: int | None = None,
    hb: list[tuple[int, int]] = (),  # type: ignore[assignment]
    transfusions: list[int] = (),  # type: ignore[assignment]
    scores: dict[str, list[tuple[int, str]]] | None = None,
    baseline_platelets: Decimal | None = None,
) -> PatientCourse:
    platelets = [] if baseline is None else [Observation(day(baseline_day), Decimal(baseline))]
    return PatientCourse(
        day1=D1,
        as_of=day(as_of),
        platelets=platelets + [Observation(day(n), Decimal(value)) for n, value in counts],
        haemoglobin=[Observation(day(n), Decimal(value)) for n, value in hb],
        bleeding=[BleedingObservation(day(n), grade) for n, grade in bleeding],
        rescue=list(rescue),
        transfusions=[day(n) for n in transfusions],
        scores={
            name: [Observation(day(n), Decimal(value)) for n, value in values]
            for name, values in (scores or {}).items()
        },
        baseline_platelets=baseline_platelets,
        withdrawn_on=None if withdrawn is None else day(withdrawn),
    )


def rescue(start: int, stop: int | None, *, itp_directed: bool = True) -> RescueEpisode:
    return RescueEpisode(day(start), None if stop is None else day(stop), itp_directed, "IVIG")


def spec(endpoint: dict[str, Any], criteria: dict[str, Any] = IWG) -> EndpointSpec:
    return build_endpoint_specs(criteria, [endpoint])[0]


def evaluate(
    endpoint: dict[str, Any], patient: PatientCourse, criteria: dict[str, Any] = IWG
) -> EndpointResult:
    return evaluate_endpoints([spec(endpoint, criteria)], patient)[endpoint["code"]]


def with_criteria(endpoint: dict[str, Any], **override: Any) -> dict[str, Any]:
    return {**endpoint, "criteria": override}


RESPONDER = [(14, 64), (22, 70)]  # R on day 14, confirmed 8 days later


# --- Classification of single counts ---------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "count", "patient", "expected"),
    [
        pytest.param({}, 30, {}, "R", id="exactly 30 with >="),
        pytest.param(
            {"levels": {"R": {"platelets": {"op": ">", "value": 30}}}},
            30,
            {},
            "NR",
            id="exactly 30 with >",
        ),
        pytest.param(
            {"levels": {"R": {"platelets": {"op": ">", "value": 30}}}},
            31,
            {},
            "R",
            id="31 with >",
        ),
        pytest.param({}, 29, {}, "NR", id="29"),
        pytest.param({}, 40, {"baseline": 20}, "R", id="exactly 2x baseline"),
        pytest.param({}, 39, {"baseline": 20}, "NR", id="just under 2x baseline"),
        pytest.param(
            {"levels": {"R": {"fold_of_baseline": {"op": ">", "value": 2}}}},
            40,
            {"baseline": 20},
            "NR",
            id="strictly more than 2x rejects exactly 2x",
        ),
        pytest.param(
            {"levels": {"R": {"fold_of_baseline": None}}},
            39,
            {"baseline": 20},
            "R",
            id="fold rule removed",
        ),
        pytest.param({}, 100, {"baseline": 60}, "CR", id="CR at exactly 100 has no fold rule"),
        pytest.param({}, 99, {"baseline": 60}, "NR", id="99 under 2x baseline 60"),
        pytest.param({}, 40, {"baseline_day": -32}, "NR", id="baseline older than window"),
        pytest.param({}, 40, {"baseline_day": -30}, "R", id="baseline at window edge"),
        pytest.param({}, 40, {"baseline_day": 0}, "R", id="baseline on day 1"),
        pytest.param({}, 40, {"baseline": None}, "NR", id="no baseline count"),
        pytest.param(
            {},
            40,
            {"baseline": None, "baseline_platelets": Decimal(20)},
            "R",
            id="baseline given on the course",
        ),
        pytest.param({}, 64, {"bleeding": [(10, 1)]}, "NR", id="bleeding on the day of the count"),
        pytest.param({}, 64, {"bleeding": [(9, 2)]}, "R", id="bleeding the day before, window 0"),
        pytest.param(
            {"bleeding": {"window_days": 1}},
            64,
            {"bleeding": [(9, 2)]},
            "NR",
            id="bleeding the day before, window 1",
        ),
        pytest.param(
            {"bleeding": {"min_who_grade": 2}},
            64,
            {"bleeding": [(10, 1)]},
            "R",
            id="bleeding below the minimum grade",
        ),
        pytest.param(
            {"bleeding": None}, 64, {"bleeding": [(10, 3)]}, "R", id="bleeding rule nulled"
        ),
        pytest.param(
            {}, 64, {"rescue": [rescue(-20, -18)]}, "NR", id="rescue ended 28 days before: inside"
        ),
        pytest.param(
            {}, 64, {"rescue": [rescue(-21, -19)]}, "R", id="rescue ended 29 days before: outside"
        ),
        pytest.param({}, 64, {"rescue": [rescue(10, 12)]}, "NR", id="rescue starts on count day"),
        pytest.param({}, 64, {"rescue": [rescue(-60, None)]}, "NR", id="rescue ongoing"),
        pytest.param(
            {},
            64,
            {"rescue": [rescue(5, 6, itp_directed=False)]},
            "R",
            id="non-ITP-directed therapy ignored",
        ),
        pytest.param(
            {"rescue": {"itp_directed_only": False}},
            64,
            {"rescue": [rescue(5, 6, itp_directed=False)]},
            "NR",
            id="any therapy counts when itp_directed_only is false",
        ),
        pytest.param(
            {"rescue": {"since_start": True, "lookback_days": None}},
            64,
            {"rescue": [rescue(-20, -10)]},
            "R",
            id="since start: rescue before day 1 ignored",
        ),
    ],
)
def test_count_classification(
    override: dict[str, Any], count: int, patient: dict[str, Any], expected: str
) -> None:
    criteria = merge_criteria(IWG, override)
    visits = assess_visits(criteria, course([(10, count)], **patient))
    assert [visit.response for visit in visits] == [expected]
    assert visits[0].qualifying is (expected != "NR")


def test_rescue_since_start_covers_the_whole_treatment() -> None:
    criteria = merge_criteria(IWG, {"rescue": {"since_start": True, "lookback_days": None}})
    visits = assess_visits(criteria, course([(100, 64)], rescue=[rescue(20, 30)]))
    assert visits[0].response == "NR"
    assert visits[0].detail.endswith("rescue IVIG 2025-01-21 to 2025-01-31 since day 1")


@pytest.mark.parametrize(
    ("patient", "detail", "flags"),
    [
        (
            {},
            "R: PLT 64 on 2025-01-11 ≥ 30 and ≥ 2× baseline 12 (=24); no bleeding; "
            "no rescue in prior 28 days",
            (False, False),
        ),
        (
            {"bleeding": [(10, 2)]},
            "NR: PLT 64 on 2025-01-11 ≥ 30 and ≥ 2× baseline 12 (=24) (R by count); "
            "WHO grade 2 bleeding on 2025-01-11; no rescue in prior 28 days",
            (True, False),
        ),
        (
            {"rescue": [rescue(-20, -18)]},
            "NR: PLT 64 on 2025-01-11 ≥ 30 and ≥ 2× baseline 12 (=24) (R by count); no bleeding; "
            "rescue IVIG 2024-12-12 to 2024-12-14 in prior 28 days",
            (False, True),
        ),
        (
            {"baseline": 20},
            "NR: PLT 39 on 2025-01-11 meets no level (R needs ≥ 30 and ≥ 2× baseline 20 (=40)); "
            "no bleeding; no rescue in prior 28 days",
            (False, False),
        ),
    ],
)
def test_visit_detail_can_be_checked_by_hand(
    patient: dict[str, Any], detail: str, flags: tuple[bool, bool]
) -> None:
    value = 39 if patient.get("baseline") == 20 else 64
    (visit,) = assess_visits(IWG, course([(10, value)], **patient))
    assert visit.detail == detail
    assert (visit.bleeding, visit.rescue) == flags
    assert visit.platelet_count == Decimal(value)


def test_assess_visits_ignores_baseline_and_data_after_as_of() -> None:
    patient = course([(0, 15), (14, 64), (22, 70), (30, 80)], as_of=22)
    visits = assess_visits(spec(BEST_R), patient)
    assert [(visit.date, visit.response) for visit in visits] == [(day(14), "R"), (day(22), "R")]


# --- Confirmation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confirmation", "counts", "bleeding", "met", "days"),
    [
        pytest.param({}, [(14, 64), (21, 70)], [], False, 21, id="exactly 7 days, more than 7"),
        pytest.param(
            {"inclusive": True}, [(14, 64), (21, 70)], [], True, 14, id="exactly 7, at least 7"
        ),
        pytest.param({}, [(14, 64), (22, 70)], [], True, 14, id="8 days, more than 7"),
        pytest.param({"inclusive": True}, [(14, 64), (20, 70)], [], False, 20, id="one day short"),
        pytest.param(
            {}, [(14, 64), (18, 20), (25, 70)], [], False, 25, id="non-qualifying between"
        ),
        pytest.param(
            {}, [(14, 64), (18, 20), (25, 70), (33, 70)], [], True, 25, id="new run after a break"
        ),
        pytest.param({}, [(14, 64), (17, 66), (22, 70)], [], True, 14, id="close count in between"),
        pytest.param({}, [(14, 64), (22, 70)], [(17, 1)], False, 22, id="bleeding between"),
        pytest.param({"required": False}, [(14, 64)], [], True, 14, id="not required"),
        pytest.param({}, [(14, 120), (22, 40)], [], True, 14, id="CR confirmed by R count"),
        pytest.param({}, [(170, 64), (190, 70)], [], True, 170, id="confirmed inside window"),
        pytest.param({}, [(190, 64), (199, 70)], [], False, 190, id="confirmation after window"),
    ],
)
def test_confirmation_boundaries(
    confirmation: dict[str, Any],
    counts: list[tuple[int, int]],
    bleeding: list[tuple[int, int]],
    met: bool,
    days: int,
) -> None:
    criteria = merge_criteria(IWG, {"confirmation": confirmation})
    specs = build_endpoint_specs(criteria, [BEST_R, {**TTR, "time_point": SIX_MONTHS}])
    results = evaluate_endpoints(specs, course(counts, bleeding=bleeding))
    assert results["response"].met is met
    assert (results["ttr"].value, results["ttr"].event) == (days, met)


def test_best_response_detail_names_both_counts() -> None:
    result = evaluate(BEST_R, course(RESPONDER))
    assert result.met is True
    assert result.detail == (
        "confirmed R or better from R: PLT 64 on 2025-01-15 ≥ 30 and ≥ 2× baseline 12 (=24); "
        "no bleeding; no rescue in prior 28 days; confirmed by PLT 70 on 2025-01-23"
    )


def test_best_response_cr_needs_a_confirmed_cr() -> None:
    cr = {**BEST_R, "code": "cr", "level": "CR"}
    assert evaluate(cr, course([(14, 120), (22, 40)])).met is False
    assert evaluate(cr, course([(14, 120), (22, 100)])).met is True


def test_best_response_exactly_excludes_better_levels() -> None:
    exactly_r = {**BEST_R, "match": "exactly"}
    assert evaluate(exactly_r, course([(14, 64), (22, 70)])).met is True
    better = evaluate(exactly_r, course([(14, 120), (22, 130)]))
    assert better.met is False
    assert better.detail.startswith("best confirmed response CR, better than R")
    # While the window is open an exact R may still become CR.
    assert evaluate(exactly_r, course([(14, 64), (22, 70)], as_of=100)).met is None


def test_best_response_window_open_without_response_is_undecided() -> None:
    result = evaluate(BEST_R, course([(14, 64), (22, 70)], as_of=21))
    assert result.met is None
    assert result.detail == (
        "no confirmed R or better as of 2025-01-22; window ends 2025-07-14; "
        "PLT 64 on 2025-01-15 qualified but is not confirmed"
    )


def test_best_response_closed_window_without_response_is_false() -> None:
    result = evaluate(BEST_R, course([(14, 20), (100, 25)], as_of=194))
    assert result.met is False
    assert result.detail == (
        "no confirmed R or better between day 1 and 2025-07-14; last assessment PLT 25 on "
        "2025-04-11"
    )


# --- Loss of response and regain ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "later_counts", "patient", "value", "event"),
    [
        pytest.param(
            {},
            [(60, 20), (61, 20), (63, 20)],
            {},
            46,
            True,
            id="second count 1 day later too close",
        ),
        pytest.param({}, [(60, 20), (62, 20)], {}, 46, True, id="two counts 2 days apart"),
        pytest.param(
            {}, [(60, 20), (61, 20), (70, 64)], {}, 56, False, id="run broken before confirming"
        ),
        pytest.param(
            {"inclusive": True}, [(60, 20), (61, 20)], {}, 46, True, id="1 day apart, inclusive"
        ),
        pytest.param(
            {"confirmations": 3}, [(60, 20), (62, 20), (64, 64)], {}, 50, False, id="three needed"
        ),
        pytest.param({}, [(60, 64)], {"bleeding": [(40, 2)]}, 26, True, id="bleeding is a loss"),
        pytest.param(
            {"bleeding": False},
            [(60, 64)],
            {"bleeding": [(40, 2)]},
            46,
            False,
            id="bleeding not a loss",
        ),
        pytest.param(
            {},
            [(60, 64), (62, 64)],
            {"rescue": [rescue(50, 52)]},
            46,
            True,
            id="rescue makes counts NR",
        ),
        pytest.param(None, [(60, 20), (70, 64)], {}, 46, True, id="loss rule nulled: one count"),
    ],
)
def test_loss_of_response(
    loss: dict[str, Any] | None,
    later_counts: list[tuple[int, int]],
    patient: dict[str, Any],
    value: int,
    event: bool,
) -> None:
    criteria = merge_criteria(IWG, {"loss": loss})
    result = evaluate(DOR, course(RESPONDER + later_counts, **patient), criteria)
    assert (result.value, result.event, result.met) == (value, event, None)


def test_loss_detail_names_the_counts() -> None:
    result = evaluate(DOR, course([*RESPONDER, (60, 20), (61, 20), (63, 20)]))
    assert result.detail == (
        "response from 2025-01-15 lost on 2025-03-02: PLT 20 on 2025-03-02, PLT 20 on 2025-03-05 "
        "(2 non-qualifying count(s) > 1 day(s) apart) (46 days); 1 response episode(s), "
        "46 days in response over 63 days observed"
    )


REGAIN = [*RESPONDER, (60, 20), (62, 20), (100, 64), (108, 70), (180, 80)]


def test_loss_then_regain_is_a_new_episode() -> None:
    specs = build_endpoint_specs(
        IWG,
        [
            DOR,
            TTR,
            R_AT_6M,
            {**R_AT_6M, "code": "r2m", "time_point": {"day": 62}},
            {**R_AT_6M, "code": "r100", "time_point": {"day": 100, "window_after": 14}},
            {**R_AT_6M, "code": "r100_no_window", "time_point": {"day": 100}},
        ],
    )
    results = evaluate_endpoints(specs, course(REGAIN))
    assert (results["dor"].value, results["dor"].event) == (46, True)
    assert "2 response episode(s), 126 days in response over 180 days observed" in (
        results["dor"].detail
    )
    assert (results["ttr"].value, results["ttr"].event) == (14, True)
    assert results["r6"].met is True
    assert "in response since 2025-04-11" in results["r6"].detail
    assert results["r2m"].met is False  # the count on day 62 is the loss
    assert results["r100"].met is True  # first count of the regained response, confirmed day 108
    assert results["r100_no_window"].met is False  # the confirmation must lie inside the window


def test_duration_is_censored_at_last_assessment_and_undefined_for_non_responders() -> None:
    ongoing = evaluate(DOR, course([*RESPONDER, (90, 80)]))
    assert (ongoing.value, ongoing.event) == (76, False)
    non_responder = evaluate(DOR, course([(14, 20)]))
    assert (non_responder.met, non_responder.value, non_responder.event) == (None, None, None)
    assert non_responder.detail == (
        "not a responder: no confirmed R or better; last assessment PLT 20 on 2025-01-15"
    )


def test_time_to_response_without_assessments_is_censored_at_day_one() -> None:
    result = evaluate(TTR, course([]))
    assert (result.value, result.event) == (0, False)


# --- Response at a time point ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "patient", "met"),
    [
        pytest.param([*RESPONDER, (180, 80)], {}, True, id="qualifying count at day 180"),
        pytest.param([*RESPONDER, (170, 20), (185, 80)], {}, True, id="nearest wins"),
        pytest.param([*RESPONDER, (175, 20), (185, 80)], {}, False, id="tie goes to earlier"),
        pytest.param([*RESPONDER, (166, 80)], {}, True, id="window start included"),
        pytest.param([*RESPONDER, (165, 80)], {}, False, id="day before window"),
        pytest.param([*RESPONDER, (194, 80)], {}, True, id="window end included"),
        pytest.param(RESPONDER, {}, False, id="window closed without assessment"),
        pytest.param(RESPONDER, {"as_of": 194}, False, id="closes on its last day"),
        pytest.param(RESPONDER, {"as_of": 170}, None, id="window open, no assessment"),
        pytest.param([*RESPONDER, (176, 80)], {"as_of": 176}, None, id="nearer count may follow"),
        pytest.param([*RESPONDER, (180, 80)], {"as_of": 180}, True, id="on target: decided"),
        pytest.param([(180, 80), (190, 80)], {}, True, id="confirmed later in window"),
        pytest.param([(180, 80), (186, 80)], {}, False, id="not confirmed in window"),
        pytest.param([(180, 80)], {"as_of": 185}, None, id="awaiting confirmation"),
        pytest.param(
            [*RESPONDER, (100, 20), (102, 20), (180, 80)], {}, False, id="lost and not regained"
        ),
        pytest.param([*RESPONDER, (180, 80)], {"withdrawn": 170}, False, id="withdrawn before"),
        pytest.param([*RESPONDER, (180, 80)], {"withdrawn": 185}, True, id="withdrawn after"),
        pytest.param(
            [*RESPONDER, (170, 80)], {"withdrawn": 170}, True, id="count on the withdrawal day"
        ),
        pytest.param(
            [*RESPONDER, (168, 80)],
            {"withdrawn": 175},
            True,
            id="count in window before withdrawal",
        ),
        pytest.param(
            [*RESPONDER, (168, 80), (180, 20)],
            {"withdrawn": 175},
            True,
            id="nearer count after withdrawal ignored",
        ),
        pytest.param(
            [*RESPONDER, (168, 20), (180, 80)],
            {"withdrawn": 175},
            False,
            id="count before withdrawal does not qualify",
        ),
        pytest.param(
            [(180, 80), (190, 80)], {"withdrawn": 185}, False, id="confirmation after withdrawal"
        ),
        pytest.param(
            RESPONDER, {"withdrawn": 175, "as_of": 170}, None, id="withdrawal after as_of unknown"
        ),
    ],
)
def test_response_at_time_point(
    counts: list[tuple[int, int]], patient: dict[str, Any], met: bool | None
) -> None:
    assert evaluate(R_AT_6M, course(counts, **patient)).met is met


def test_missing_assessment_detail() -> None:
    result = evaluate(R_AT_6M, course(RESPONDER))
    assert result.detail == (
        "no assessment in window 2025-06-16 to 2025-07-14: counted as non-responder"
    )


def test_withdrawal_detail() -> None:
    result = evaluate(R_AT_6M, course([*RESPONDER, (180, 80)], withdrawn=170))
    assert result.detail == (
        "withdrawn on 2025-06-20 with no assessment in window 2025-06-16 to 2025-07-14 by then: "
        "counted as non-responder"
    )
    unconfirmed = evaluate(R_AT_6M, course([(180, 80), (190, 80)], withdrawn=185))
    assert unconfirmed.detail == (
        "R: PLT 80 on 2025-06-30 ≥ 30 and ≥ 2× baseline 12 (=24); no bleeding; no rescue in "
        "prior 28 days; not part of a response confirmed by 2025-07-14 (needs a second "
        "qualifying count more than 7 days later); unbroken qualifying run: PLT 80 on "
        "2025-06-30; withdrawn on 2025-07-05"
    )


R_80_ON_DAY_180 = (
    "R: PLT 80 on 2025-06-30 ≥ 30 and ≥ 2× baseline 12 (=24); no bleeding; no rescue in prior "
    "28 days"
)


@pytest.mark.parametrize(
    ("counts", "bleeding", "detail"),
    [
        pytest.param(
            [(180, 80), (187, 80)],
            [],
            f"{R_80_ON_DAY_180}; not part of a response confirmed by 2025-07-14 (needs a second "
            "qualifying count more than 7 days later); unbroken qualifying run: PLT 80 on "
            "2025-06-30, PLT 80 on 2025-07-07",
            id="7 days",
        ),
        pytest.param(
            [*RESPONDER, (150, 80), (180, 80)],
            [(179, 2)],
            f"{R_80_ON_DAY_180}; earlier response from PLT 64 on 2025-01-15 confirmed by PLT 70 "
            "on 2025-01-23 lost on 2025-06-29: WHO grade 2 bleeding; not part of a response "
            "confirmed by 2025-07-14 (needs a second qualifying count more than 7 days later); "
            "unbroken qualifying run: PLT 80 on 2025-06-30",
            id="response lost by bleeding",
        ),
        pytest.param(
            [*RESPONDER, (100, 20), (102, 20), (176, 80), (180, 80), (183, 80)],
            [],
            f"{R_80_ON_DAY_180}; earlier response from PLT 64 on 2025-01-15 confirmed by PLT 70 "
            "on 2025-01-23 lost on 2025-04-11: PLT 20 on 2025-04-11, PLT 20 on 2025-04-13 "
            "(2 non-qualifying count(s) > 1 day(s) apart); not part of a response confirmed by "
            "2025-07-14 (needs a second qualifying count more than 7 days later); unbroken "
            "qualifying run: PLT 80 on 2025-06-26, PLT 80 on 2025-06-30, PLT 80 on 2025-07-03",
            id="response lost by counts",
        ),
    ],
)
def test_unconfirmed_count_detail_names_the_run_and_any_earlier_loss(
    counts: list[tuple[int, int]], bleeding: list[tuple[int, int]], detail: str
) -> None:
    result = evaluate(R_AT_6M, course(counts, bleeding=bleeding))
    assert (result.met, result.detail) == (False, detail)


# confirmed_by: assessment — the count must lie in a response confirmed on or before it.
R_AT_6M_ONGOING = {**R_AT_6M, "code": "r6_ongoing", "confirmed_by": "assessment"}


@pytest.mark.parametrize(
    ("counts", "patient", "window_end", "assessment"),
    [
        pytest.param([(172, 80), (180, 80)], {}, True, True, id="confirmed by the count itself"),
        pytest.param([(173, 80), (180, 80)], {}, False, False, id="7 days before the count"),
        pytest.param([(180, 80), (188, 80)], {}, True, False, id="confirmed after the count"),
        pytest.param([(176, 80), (184, 80)], {}, True, False, id="tie: earlier count decides"),
        pytest.param([*RESPONDER, (180, 80)], {}, True, True, id="responder since day 14"),
        pytest.param(
            [*RESPONDER, (100, 20), (102, 20), (180, 80), (188, 80)],
            {},
            True,
            False,
            id="lost, regained at the time point",
        ),
        pytest.param(
            [*RESPONDER, (100, 20), (102, 20), (170, 80), (180, 80)],
            {},
            True,
            True,
            id="lost, regained before the time point",
        ),
        pytest.param(
            [(172, 80), (180, 80)], {"bleeding": [(176, 1)]}, False, False, id="bleeding between"
        ),
        pytest.param([(180, 80)], {"as_of": 185}, None, False, id="decided once the count is in"),
        pytest.param(
            [(172, 80), (178, 80)], {"as_of": 179}, None, None, id="nearer count may follow"
        ),
        pytest.param(
            [(172, 80), (180, 80)], {"withdrawn": 180}, True, True, id="withdrawn on count day"
        ),
    ],
)
def test_confirmed_by(
    counts: list[tuple[int, int]],
    patient: dict[str, Any],
    window_end: bool | None,
    assessment: bool | None,
) -> None:
    specs = build_endpoint_specs(IWG, [R_AT_6M, R_AT_6M_ONGOING])
    results = evaluate_endpoints(specs, course(counts, **patient))
    assert (results["r6"].met, results["r6_ongoing"].met) == (window_end, assessment)


def test_confirmed_by_assessment_detail() -> None:
    result = evaluate(R_AT_6M_ONGOING, course([(180, 80), (188, 80)]))
    assert result.detail == (
        f"{R_80_ON_DAY_180}; not part of a response confirmed on or before 2025-06-30 (needs a "
        "second qualifying count more than 7 days later); unbroken qualifying run: PLT 80 on "
        "2025-06-30"
    )


def test_single_count_suffices_when_confirmation_not_required() -> None:
    endpoint = with_criteria(R_AT_6M, confirmation={"required": False})
    assert evaluate(endpoint, course([(180, 80)])).met is True


# Sjögren's trial (NCT05694130): CR > 100, PR 50–100, one count at each week, no fold of baseline.
SJOGREN = merge_criteria(
    IWG,
    {
        "levels": {
            "CR": {"platelets": {"op": ">", "value": 100}},
            "PR": {
                "rank": 2,
                "platelets": {"op": ">=", "value": 50},
                "platelets_max": {"op": "<=", "value": 100},
            },
            "R": None,
        },
        "confirmation": {"required": False},
    },
)
WEEK_12 = {"day": 84, "window_before": 7, "window_after": 7}


@pytest.mark.parametrize(
    ("count", "level", "match", "met"),
    [
        (120, "PR", "exactly", False),
        (120, "PR", "at_least", True),
        (120, "CR", "at_least", True),
        (101, "CR", "at_least", True),
        (100, "CR", "at_least", False),
        (100, "PR", "exactly", True),
        (50, "PR", "exactly", True),
        (49, "PR", "at_least", False),
    ],
)
def test_range_level_and_exact_match(count: int, level: str, match: str, met: bool) -> None:
    endpoint = {
        "code": "pr12",
        "kind": "response_at_time_point",
        "level": level,
        "match": match,
        "time_point": WEEK_12,
    }
    assert evaluate(endpoint, course([(84, count)], baseline=10), SJOGREN).met is met


# --- Sustained response ------------------------------------------------------------------------

# NCT03304288: PLT > 30, no bleeding, no other ITP treatment for 6 consecutive months, year 1.
SUSTAINED = {
    "code": "sustained",
    "kind": "sustained_response",
    "level": "R",
    "duration_days": 180,
    "time_point": {"day": 365},
    "criteria": {
        "levels": {"R": {"platelets": {"op": ">", "value": 30}, "fold_of_baseline": None}},
        "rescue": {"lookback_days": 0},
    },
}


def monthly(first: int, last: int, value: int = 40) -> list[tuple[int, int]]:
    return [(n, value) for n in range(first, last + 1, 30)]


@pytest.mark.parametrize(
    ("counts", "patient", "met", "value"),
    [
        pytest.param(monthly(30, 210), {}, True, 180, id="exactly 180 days"),
        pytest.param([*monthly(30, 180), (209, 40)], {}, False, None, id="179 days"),
        pytest.param(monthly(30, 210, value=30), {}, False, None, id="30 is not more than 30"),
        pytest.param(
            [*monthly(30, 90), (120, 25), *monthly(150, 330)], {}, True, 180, id="restart after dip"
        ),
        pytest.param(monthly(30, 270), {"bleeding": [(100, 1)]}, False, None, id="bleeding inside"),
        pytest.param(
            monthly(30, 270), {"rescue": [rescue(95, 96)]}, False, None, id="rescue inside"
        ),
        pytest.param(monthly(200, 380), {}, False, None, id="run ends after horizon"),
        pytest.param(monthly(30, 180), {"as_of": 200}, None, None, id="follow-up not complete"),
        pytest.param(monthly(30, 180), {"withdrawn": 200}, False, None, id="withdrawn"),
    ],
)
def test_sustained_response(
    counts: list[tuple[int, int]], patient: dict[str, Any], met: bool | None, value: int | None
) -> None:
    result = evaluate(SUSTAINED, course(counts, **patient))
    assert (result.met, result.value) == (met, value)


def test_sustained_response_detail() -> None:
    result = evaluate(SUSTAINED, course(monthly(30, 210)))
    assert result.detail.startswith(
        "R or better from PLT 40 on 2025-01-31 to PLT 40 on 2025-07-30: 180 days ≥ 180, "
        "7 counts all qualifying; R: PLT 40 on 2025-01-31 > 30"
    )
    assert result.detail.endswith("no bleeding or rescue during the run")


def test_sustained_response_detail_of_a_non_responder() -> None:
    counts = [*monthly(30, 90), (100, 20), *monthly(120, 270)]
    result = evaluate(SUSTAINED, course(counts, bleeding=[(130, 1)]))
    assert result.detail == (
        "no sustained response by 2026-01-01; longest qualifying run 120 days from PLT 40 on "
        "2025-05-31 to PLT 40 on 2025-09-28, no later count (needs ≥ 180)"
    )
    broken = evaluate(SUSTAINED, course([*monthly(30, 90), (100, 20), *monthly(120, 150)]))
    assert broken.detail == (
        "no sustained response by 2026-01-01; longest qualifying run 60 days from PLT 40 on "
        "2025-01-31 to PLT 40 on 2025-04-01, ended by NR: PLT 20 on 2025-04-11 meets no level "
        "(R needs > 30); no bleeding; no rescue in prior 0 days (needs ≥ 180)"
    )
    assert evaluate(SUSTAINED, course([(30, 20)])).detail == (
        "no sustained response by 2026-01-01; no count qualifying for R or better (needs ≥ 180); "
        "last assessment PLT 20 on 2025-01-31"
    )


# after_response: the period starts at the first count of a response confirmed under the
# protocol's criteria (IWG here: R >= 30 and >= 2x baseline 12, CR >= 100, confirmed > 7 days
# later); the endpoint's criteria (> 30, no fold) apply to every count from there on.
SUSTAINED_AFTER = {**SUSTAINED, "code": "after", "after_response": {"level": "R"}}


@pytest.mark.parametrize(
    ("counts", "patient", "free", "after"),
    [
        pytest.param(monthly(30, 210), {}, (True, 180), (True, 180), id="response from day 30"),
        pytest.param(
            monthly(30, 210), {"baseline": 25}, (True, 180), (False, None), id="never a response"
        ),
        pytest.param(
            [*monthly(30, 90), *monthly(120, 150, 60), *monthly(180, 300)],
            {"baseline": 25},
            (True, 180),
            (True, 180),
            id="period starts at the response, day 120",
        ),
        pytest.param(
            [*monthly(30, 90), *monthly(120, 150, 60), *monthly(180, 270)],
            {"baseline": 25},
            (True, 180),
            (False, None),
            id="150 days after the response",
        ),
        pytest.param(
            [(30, 100), (38, 100), *monthly(60, 210)],
            {"baseline": 60},
            (True, 180),
            (True, 180),
            id="CR needs no fold, then 40 < 2x baseline still > 30",
        ),
        pytest.param(
            [(30, 30), (38, 40), *monthly(60, 240)],
            {},
            (True, 202),
            (False, None),
            id="first count of the response is 30, not > 30",
        ),
        pytest.param(
            [(30, 40), (37, 40), *monthly(60, 210, 31)],
            {"baseline": 20},
            (True, 180),
            (False, None),
            id="response 7 days apart is not confirmed",
        ),
        pytest.param(
            [(30, 40), (38, 40), (60, 20), (62, 20), (90, 40), (98, 40), *monthly(120, 270)],
            {},
            (True, 180),
            (True, 180),
            id="regain after a loss starts a new period",
        ),
        pytest.param(
            [(30, 40), (38, 40), (60, 20), *monthly(90, 270)],
            {},
            (True, 180),
            (False, None),
            id="a single low count ends the period but is no loss",
        ),
        pytest.param(
            monthly(30, 270), {"bleeding": [(100, 1)]}, (False, None), (False, None), id="bleeding"
        ),
        pytest.param(monthly(30, 180), {"as_of": 200}, (None, None), (None, None), id="open"),
        pytest.param(
            monthly(30, 240),
            {"withdrawn": 215},
            (True, 180),
            (True, 180),
            id="done before withdrawal",
        ),
        pytest.param(
            monthly(30, 240), {"withdrawn": 200}, (False, None), (False, None), id="withdrawn"
        ),
    ],
)
def test_sustained_response_after_response(
    counts: list[tuple[int, int]],
    patient: dict[str, Any],
    free: tuple[bool | None, int | None],
    after: tuple[bool | None, int | None],
) -> None:
    results = evaluate_endpoints(
        build_endpoint_specs(IWG, [SUSTAINED, SUSTAINED_AFTER]), course(counts, **patient)
    )
    assert (results["sustained"].met, results["sustained"].value) == free
    assert (results["after"].met, results["after"].value) == after


def test_sustained_response_after_response_detail() -> None:
    result = evaluate(SUSTAINED_AFTER, course(monthly(30, 210)))
    assert result.detail == (
        "confirmed R or better under the protocol response criteria: R: PLT 40 on 2025-01-31 "
        "≥ 30 and ≥ 2× baseline 12 (=24); no bleeding; no rescue in prior 28 days; confirmed by "
        "PLT 40 on 2025-03-02; then maintained R or better from PLT 40 on 2025-01-31 to PLT 40 "
        "on 2025-07-30: 180 days ≥ 180, 7 counts all qualifying; R: PLT 40 on 2025-01-31 > 30; "
        "no bleeding; no rescue in prior 0 days; no bleeding or rescue during the run"
    )
    ended = evaluate(SUSTAINED_AFTER, course([(30, 40), (38, 40), (60, 20), *monthly(90, 270)]))
    assert ended.detail == (
        "no sustained response by 2026-01-01; response from PLT 40 on 2025-01-31 confirmed by "
        "PLT 40 on 2025-02-08: R or better held 8 days from PLT 40 on 2025-01-31 to PLT 40 on "
        "2025-02-08, ended by NR: PLT 20 on 2025-03-02 meets no level (R needs > 30); no "
        "bleeding; no rescue in prior 0 days (needs ≥ 180 days from the response's first count)"
    )
    never = evaluate(SUSTAINED_AFTER, course([(30, 40), (37, 40)], baseline=20, as_of=100))
    assert never.detail == (
        "no sustained response as of 2025-04-11; no confirmed R or better under the protocol "
        "response criteria (needs a second qualifying count more than 7 days later); last "
        "assessment R: PLT 40 on 2025-02-07 ≥ 30 and ≥ 2× baseline 20 (=40); no bleeding; no "
        "rescue in prior 28 days; PLT 40 on 2025-01-31 qualified but is not confirmed"
    )
    assert evaluate(SUSTAINED_AFTER, course([])).detail == (
        "no sustained response by 2026-01-01; no confirmed R or better under the protocol "
        "response criteria (needs a second qualifying count more than 7 days later); no "
        "assessment after day 1"
    )


# --- Continuous values -------------------------------------------------------------------------


def test_peak_value_within_horizon() -> None:
    counts = [(30, 50), (60, 90), (90, 90), (200, 300)]
    bounded = {
        "code": "peak",
        "kind": "peak_value",
        "test_code": "PLAT",
        "time_point": {"day": 180},
    }
    result = evaluate(bounded, course(counts))
    assert (result.met, result.value) == (None, Decimal(90))
    assert result.detail == (
        "peak PLAT 90 on 2025-03-02 (highest of 3 values from 2025-01-31 to 2025-04-01)"
    )
    unbounded = {"code": "peak", "kind": "peak_value", "test_code": "PLAT"}
    assert evaluate(unbounded, course(counts)).value == Decimal(300)
    assert evaluate(unbounded, course([])).value is None


@pytest.mark.parametrize(
    ("hb", "patient", "value", "detail_start"),
    [
        ([(170, 95), (183, 101)], {}, Decimal(101), "HGB 101 on 2025-07-03"),
        ([(100, 95)], {}, None, "no assessment in window 2025-06-16 to 2025-07-14: no value"),
        ([(170, 95)], {"as_of": 175}, None, "window 2025-06-16 to 2025-07-14 still open"),
        ([(170, 95)], {"withdrawn": 172}, Decimal(95), "HGB 95 on 2025-06-20"),
        ([(170, 95), (180, 101)], {"withdrawn": 172}, Decimal(95), "HGB 95 on 2025-06-20"),
        (
            [(175, 95)],
            {"withdrawn": 172},
            None,
            "withdrawn on 2025-06-22 with no assessment in window 2025-06-16 to 2025-07-14 by "
            "then: no value",
        ),
    ],
)
def test_value_at_time_point(
    hb: list[tuple[int, int]], patient: dict[str, Any], value: Decimal | None, detail_start: str
) -> None:
    endpoint = {
        "code": "hb6",
        "kind": "value_at_time_point",
        "test_code": "HGB",
        "time_point": SIX_MONTHS,
    }
    result = evaluate(endpoint, course(hb=hb, **patient))
    assert (result.met, result.value) == (None, value)
    assert result.detail.startswith(detail_start)


# --- Haemoglobin response (AIHA / PRCA, NCT03918265) -------------------------------------------

AIHA = {
    "baseline": {"test_code": "HGB", "window_days": 30},
    "levels": {
        "CR": {"rank": 1, "hb": {"op": ">=", "value": 120}},
        "PR": {
            "rank": 2,
            "hb": {"op": ">=", "value": 100},
            "rise_from_baseline": {"op": ">=", "value": 20},
            "combine": "any",
        },
    },
}
HB_RESPONSE = {
    "code": "hb_response",
    "kind": "haemoglobin_response",
    "time_point": SIX_MONTHS,
    "transfusion_free_days": 7,
}


@pytest.mark.parametrize(
    ("value", "transfusions", "level", "expected", "met"),
    [
        (120, [], None, "CR", True),
        (119, [], None, "PR", True),
        (90, [], None, "PR", True),  # rise 20 from baseline 70
        (89, [], None, "NR", False),
        (125, [175], None, "NR", False),
        (125, [173], None, "NR", False),  # exactly 7 days before: inside
        (125, [172], None, "CR", True),  # 8 days before: outside
        (119, [], "CR", "PR", False),
        (125, [], "PR", "CR", True),
    ],
)
def test_haemoglobin_response(
    value: int, transfusions: list[int], level: str | None, expected: str, met: bool
) -> None:
    endpoint = HB_RESPONSE if level is None else {**HB_RESPONSE, "level": level}
    patient = course(hb=[(-1, 70), (180, value)], transfusions=transfusions)
    result = evaluate(endpoint, patient, AIHA)
    assert (result.value, result.met) == (expected, met)


def test_haemoglobin_response_detail_and_combine_all() -> None:
    patient = course(hb=[(-1, 70), (180, 90)])
    result = evaluate(HB_RESPONSE, patient, AIHA)
    assert result.detail == (
        "PR: Hb 90 on 2025-06-30 ≥ 100 or rise 20 ≥ 20 from baseline 70; "
        "no transfusion in prior 7 days"
    )
    both_needed = merge_criteria(AIHA, {"levels": {"PR": {"combine": "all"}}})
    assert evaluate(HB_RESPONSE, patient, both_needed).value == "NR"


def test_haemoglobin_response_missing_or_open_window() -> None:
    closed = evaluate(HB_RESPONSE, course(hb=[(-1, 70)]), AIHA)
    assert (closed.met, closed.value) == (False, "NR")
    still_open = evaluate(HB_RESPONSE, course(hb=[(-1, 70)], as_of=170), AIHA)
    assert (still_open.met, still_open.value) == (None, None)


@pytest.mark.parametrize(
    ("hb", "withdrawn", "expected"),
    [
        pytest.param([(-1, 70), (170, 125)], 172, (True, "CR"), id="value before withdrawal"),
        pytest.param([(-1, 70), (172, 125)], 172, (True, "CR"), id="value on withdrawal day"),
        pytest.param(
            [(-1, 70), (170, 95), (180, 125)], 172, (True, "PR"), id="later value ignored"
        ),
        pytest.param([(-1, 70), (180, 125)], 172, (False, "NR"), id="no value before withdrawal"),
    ],
)
def test_haemoglobin_response_after_withdrawal(
    hb: list[tuple[int, int]], withdrawn: int, expected: tuple[bool, str]
) -> None:
    result = evaluate(HB_RESPONSE, course(hb=hb, withdrawn=withdrawn), AIHA)
    assert (result.met, result.value) == expected


def test_haemoglobin_endpoint_in_an_itp_protocol_overrides_the_levels() -> None:
    endpoint = {
        **HB_RESPONSE,
        "criteria": {
            "baseline": {"test_code": "HGB"},
            "levels": {
                "CR": None,
                "R": None,
                "HB_CR": {"rank": 1, "hb": {"op": ">=", "value": 120}},
            },
        },
    }
    result = evaluate(endpoint, course(hb=[(-1, 70), (180, 121)]))
    assert (result.value, result.met) == ("HB_CR", True)


# --- Sjögren's scores --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "mcii", "values", "patient", "met", "change"),
    [
        ("ESSDAI", {"absolute_drop": 3}, [(-3, "12"), (84, "8")], {}, True, Decimal(-4)),
        ("ESSDAI", {"absolute_drop": 3}, [(-3, "12"), (84, "9")], {}, True, Decimal(-3)),
        ("ESSDAI", {"absolute_drop": 3}, [(-3, "12"), (84, "10")], {}, False, Decimal(-2)),
        (
            "ESSPRI",
            {"absolute_drop": 1, "relative_drop": 0.15},
            [(0, "6"), (84, "5.10")],
            {},
            True,
            Decimal("-0.90"),
        ),
        (
            "ESSPRI",
            {"absolute_drop": 1, "relative_drop": 0.15},
            [(0, "6"), (84, "5.20")],
            {},
            False,
            Decimal("-0.80"),
        ),
        ("ESSDAI", None, [(-3, "12"), (84, "8")], {}, None, Decimal(-4)),
        ("ESSDAI", {"absolute_drop": 3}, [(-3, "12")], {}, False, None),
        ("ESSDAI", {"absolute_drop": 3}, [(-3, "12")], {"as_of": 80}, None, None),
        ("ESSDAI", {"absolute_drop": 3}, [(84, "8")], {}, None, None),  # no baseline
        ("ESSDAI", {"absolute_drop": 3}, [(-3, "12"), (84, "8")], {"withdrawn": 60}, False, None),
        (
            "ESSDAI",
            {"absolute_drop": 3},
            [(-3, "12"), (80, "8")],
            {"withdrawn": 82},
            True,
            Decimal(-4),
        ),
        (
            "ESSDAI",
            {"absolute_drop": 3},
            [(-3, "12"), (82, "8")],
            {"withdrawn": 82},
            True,
            Decimal(-4),
        ),
        (
            "ESSDAI",
            {"absolute_drop": 3},
            [(-3, "12"), (80, "11"), (84, "5")],
            {"withdrawn": 82},
            False,
            Decimal(-1),
        ),
        ("ESSDAI", None, [(-3, "12"), (80, "8")], {"withdrawn": 82}, None, Decimal(-4)),
        ("ESSDAI", None, [(-3, "12"), (84, "8")], {"withdrawn": 82}, None, None),
    ],
)
def test_score_change(
    score: str,
    mcii: dict[str, Any] | None,
    values: list[tuple[int, str]],
    patient: dict[str, Any],
    met: bool | None,
    change: Decimal | None,
) -> None:
    endpoint = {"code": "score", "kind": "score_change", "score": score, "time_point": WEEK_12}
    if mcii is not None:
        endpoint["mcii"] = mcii
    result = evaluate(endpoint, course(scores={score: values}, **patient))
    assert (result.met, result.value) == (met, change)


def test_score_change_detail() -> None:
    endpoint = {
        "code": "essdai",
        "kind": "score_change",
        "score": "ESSDAI",
        "mcii": {"absolute_drop": 3},
        "time_point": WEEK_12,
    }
    result = evaluate(endpoint, course(scores={"ESSDAI": [(-3, "12"), (84, "8")]}))
    assert result.detail == (
        "ESSDAI 8 on 2025-03-26 − baseline 12 on 2024-12-29 = -4; MCII (fall ≥ 3) met"
    )


# --- Withdrawal and data cut -------------------------------------------------------------------


def test_withdrawal_ignores_later_data_and_censors_time_to_event() -> None:
    specs = build_endpoint_specs(IWG, [BEST_R, TTR, DOR])
    results = evaluate_endpoints(specs, course(RESPONDER, withdrawn=20))
    assert results["response"].met is False
    assert results["response"].detail == (
        "withdrawn on 2025-01-21 with no confirmed R or better by then (window ends 2025-07-14): "
        "counted as non-responder; last assessment PLT 64 on 2025-01-15; "
        "PLT 64 on 2025-01-15 qualified but is not confirmed"
    )
    assert (results["ttr"].value, results["ttr"].event) == (14, False)
    assert results["ttr"].detail == (
        "no confirmed R or better; censored at last assessment 2025-01-15 (day 14); "
        "withdrawn on 2025-01-21; PLT 64 on 2025-01-15 qualified but is not confirmed"
    )
    assert results["dor"].value is None


def test_response_before_withdrawal_still_counts() -> None:
    results = evaluate_endpoints(
        build_endpoint_specs(IWG, [BEST_R, DOR]), course(RESPONDER, withdrawn=30)
    )
    assert results["response"].met is True
    assert (results["dor"].value, results["dor"].event) == (8, False)


def test_as_of_cuts_data_even_if_the_caller_did_not() -> None:
    patient = course([(14, 64), (22, 70), (60, 20), (62, 20)], as_of=30)
    results = evaluate_endpoints(build_endpoint_specs(IWG, [BEST_R, TTR, DOR]), patient)
    assert results["response"].met is True
    assert (results["dor"].value, results["dor"].event) == (8, False)  # loss not yet seen
    assert evaluate(BEST_R, course(RESPONDER, as_of=20)).met is None


# --- Parsing -----------------------------------------------------------------------------------


def test_parsed_spec_is_typed_and_merged() -> None:
    (parsed,) = build_endpoint_specs(
        IWG,
        [
            with_criteria(
                {**TTR, "level": None},
                bleeding=None,
                levels={"PR": {"rank": 3, "platelets": {"op": ">=", "value": 50}}},
            )
        ],
    )
    assert parsed.kind is EndpointKind.TIME_TO_RESPONSE
    assert parsed.match is LevelMatch.AT_LEAST
    assert parsed.criteria.bleeding is None
    assert [level.code for level in parsed.criteria.levels] == ["CR", "R", "PR"]
    assert parsed.level == "PR"  # default: the least stringent (last) level
    assert parsed.criteria.levels[1].fold_of_baseline == Threshold(">=", Decimal(2))
    assert parsed.criteria.confirmation is not None
    assert parsed.criteria.confirmation.min_days == 7
    assert parsed.name == "ttr"


def test_after_response_uses_the_protocol_criteria_not_the_endpoints() -> None:
    (parsed,) = build_endpoint_specs(IWG, [SUSTAINED_AFTER])
    assert parsed.after_response is not None
    assert parsed.after_response.level == "R"
    protocol_r = parsed.after_response.criteria.levels[1]
    assert (protocol_r.platelets, protocol_r.fold_of_baseline) == (
        Threshold(">=", Decimal(30)),
        Threshold(">=", Decimal(2)),
    )
    endpoint_r = parsed.criteria.levels[1]
    assert (endpoint_r.platelets, endpoint_r.fold_of_baseline) == (
        Threshold(">", Decimal(30)),
        None,
    )
    assert parsed.after_response.criteria.rescue is not None
    assert parsed.after_response.criteria.rescue.lookback_days == 28
    assert parsed.confirmed_by is ConfirmedBy.WINDOW_END
    (ongoing,) = build_endpoint_specs(IWG, [R_AT_6M_ONGOING])
    assert ongoing.confirmed_by is ConfirmedBy.ASSESSMENT


def test_bleeding_null_in_an_endpoint_removes_the_rule() -> None:
    endpoint = with_criteria(BEST_R, bleeding=None)
    patient = course(RESPONDER, bleeding=[(14, 2), (22, 2)])
    assert evaluate(BEST_R, patient).met is False
    assert evaluate(endpoint, patient).met is True


def test_levels_are_ranked_by_rank_not_by_key_order() -> None:
    """PostgreSQL jsonb stores keys shortest first ({"R": …, "CR": …}): the rank decides."""
    reordered = {**IWG, "levels": {"R": IWG["levels"]["R"], "CR": IWG["levels"]["CR"]}}
    criteria = parse_response_criteria(reordered)
    assert [level.code for level in criteria.levels] == ["CR", "R"]
    patient = course([(14, 60), (28, 60)], baseline=15)
    (best_cr,) = build_endpoint_specs(reordered, [{**BEST_R, "code": "cr", "level": "CR"}])
    (best_r,) = build_endpoint_specs(reordered, [BEST_R])
    assert (evaluate_endpoint(best_cr, patient).met, evaluate_endpoint(best_r, patient).met) == (
        False,
        True,
    )
    assert [v.response for v in assess_visits(criteria, patient)] == ["R", "R"]


def test_merge_criteria_does_not_modify_the_defaults() -> None:
    merged = merge_criteria(IWG, {"levels": {"R": None}, "rescue": {"lookback_days": 56}})
    assert list(merged["levels"]) == ["CR"]
    assert merged["rescue"]["lookback_days"] == 56
    assert list(IWG["levels"]) == ["CR", "R"]
    assert IWG["rescue"]["lookback_days"] == 28


def bad_endpoint(**changes: Any) -> list[dict[str, Any]]:
    return [BEST_R, TTR, {**R_AT_6M, **changes}]  # the third endpoint is the faulty one


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": None}, "code"),
        ({"code": "ttr"}, "code"),  # duplicate
        ({"kind": "overall_survival"}, "kind"),
        ({"time_point": {"day": "180"}}, "time_point.day"),
        ({"time_point": {"day": -1}}, "time_point.day"),
        ({"time_point": {"day": 180, "window_after": 1.5}}, "time_point.window_after"),
        ({"time_point": {"week": 26}}, "time_point.week"),
        ({"time_point": None}, "time_point"),
        ({"level": "PR"}, "level"),
        ({"match": "about"}, "match"),
        ({"primary": "yes"}, "primary"),
        ({"time_piont": {"day": 1}}, "time_piont"),
        ({"criteria": []}, "criteria"),
        ({"kind": "time_to_response", "match": "exactly"}, "match"),
        ({"kind": "sustained_response"}, "duration_days"),
        ({"kind": "sustained_response", "duration_days": 0}, "duration_days"),
        ({"kind": "peak_value"}, "test_code"),
        ({"kind": "peak_value", "test_code": "ALT"}, "test_code"),
        ({"kind": "score_change"}, "score"),
        ({"kind": "score_change", "score": "DAS28"}, "score"),
        ({"kind": "score_change", "score": "ESSPRI", "mcii": {"relative_drop": 15}},
         "mcii.relative_drop"),
        ({"kind": "score_change", "score": "ESSPRI", "mcii": {}}, "mcii"),
        ({"confirmed_by": "visit"}, "confirmed_by"),
        ({"kind": "best_response", "confirmed_by": "assessment"}, "confirmed_by"),
        ({"after_response": {"level": "R"}}, "after_response"),  # not a sustained_response
        ({**SUSTAINED, "after_response": "R"}, "after_response"),
        ({**SUSTAINED, "after_response": {"levle": "R"}}, "after_response.levle"),
        ({**SUSTAINED, "after_response": {}}, "after_response.level"),
        ({**SUSTAINED, "after_response": {"level": "PR"}}, "after_response.level"),
        # the level must be the protocol's: the endpoint's own criteria do not count
        ({**SUSTAINED,
          "criteria": {"levels": {"PR": {"rank": 3, "platelets": {"op": ">", "value": 30}}}},
          "level": "PR", "after_response": {"level": "PR"}}, "after_response.level"),
    ],
)  # fmt: skip
def test_endpoint_key_errors(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(DomainError) as error:
        build_endpoint_specs(IWG, bad_endpoint(**changes))
    assert error.value.field == f"endpoints.2.{field}"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"bleed": None}, "bleed"),  # a misspelt null must not vanish in the merge
        ({"levels": {"R": {"platelet": None}}}, "levels.R.platelet"),
        ({"levels": {"R": {"platelets": {"op": "=>", "value": 30}}}}, "levels.R.platelets.op"),
        ({"levels": {"R": {"platelets": {"value": "thirty"}}}}, "levels.R.platelets.value"),
        ({"levels": {"R": {"fold_of_baseline": 0}}}, "levels.R.fold_of_baseline"),
        ({"levels": {"R": {"platelets": None, "fold_of_baseline": None}}}, "levels.R"),
        ({"levels": {"CR": {"hb": {"op": ">=", "value": 120}}}}, "levels.CR"),  # mixed
        ({"levels": {"NR": {"platelets": {"op": "<", "value": 30}}}}, "levels.NR"),
        ({"levels": {"CR": None, "R": None}}, "levels"),
        ({"levels": {"PR": {"platelets": {"op": ">=", "value": 50}}}}, "levels.PR.rank"),
        ({"levels": {"PR": {"rank": 0, "platelets": {"op": ">=", "value": 50}}}}, "levels.PR.rank"),
        ({"levels": {"PR": {"rank": 1, "platelets": {"op": ">=", "value": 50}}}}, "levels.PR.rank"),
        ({"rescue": {"lookback_days": None}}, "rescue.lookback_days"),
        ({"confirmation": {"min_days": "7"}}, "confirmation.min_days"),
        ({"loss": {"confirmations": 0}}, "loss.confirmations"),
        ({"bleeding": {"min_who_grade": 5}}, "bleeding.min_who_grade"),
        ({"baseline": {"test_code": "HGB"}}, "baseline.test_code"),  # fold needs a PLAT baseline
    ],
)
def test_criteria_override_errors_name_the_endpoint_key(
    override: dict[str, Any], field: str
) -> None:
    with pytest.raises(DomainError) as error:
        build_endpoint_specs(IWG, bad_endpoint(criteria=override))
    assert error.value.field == f"endpoints.2.criteria.{field}"


@pytest.mark.parametrize(
    ("criteria", "endpoints", "field"),
    [
        (IWG, {"code": "x"}, "endpoints"),
        (IWG, [BEST_R, "r6"], "endpoints.1"),
        (IWG, bad_endpoint(kind="haemoglobin_response"), "response_criteria.levels"),
        ({**IWG, "levels": {"R": {"rank": 1, "platelets": {"op": ">=", "value": True}}}}, [TTR],
         "response_criteria.levels.R.platelets.value"),
        ({**IWG, "loss": {"min_days": 1}}, [TTR], "response_criteria.loss.confirmations"),
        ({**IWG, "rescue": "28 days"}, [TTR], "response_criteria.rescue"),
        ({**IWG, "extra": 1}, [], "response_criteria.extra"),
        ([], [TTR], "response_criteria"),
        ({**AIHA, "baseline": {"test_code": "PLAT"}}, [HB_RESPONSE],
         "response_criteria.baseline.test_code"),
    ],
)  # fmt: skip
def test_protocol_defaults_errors_name_the_response_criteria_key(
    criteria: Any, endpoints: Any, field: str
) -> None:
    with pytest.raises(DomainError) as error:
        build_endpoint_specs(criteria, endpoints)
    assert error.value.field == field


def test_error_paths_follow_the_callers_path() -> None:
    with pytest.raises(DomainError) as error:
        build_endpoint_specs(IWG, bad_endpoint(kind="x"), path="versions.1.endpoints")
    assert error.value.field == "versions.1.endpoints.2.kind"
    broken = {**IWG, "bleeding": {"window_days": -1}}
    with pytest.raises(DomainError) as error:
        build_endpoint_specs(broken, [TTR], path="versions.1.endpoints")
    assert error.value.field == "versions.1.response_criteria.bleeding.window_days"
    assert str(error.value).startswith("versions.1.response_criteria.bleeding.window_days: ")


# --- The shipped protocol files ----------------------------------------------------------------


PROTOCOL_FILES = sorted(PROTOCOLS.glob("*.yaml"))


def protocol_endpoint_specs(protocol_file: Path) -> dict[str, list[EndpointSpec]]:
    """Every resolved version's endpoints (amendments applied by ecrf.domain.protocol_spec), parsed
    through build_endpoint_specs with the version's dotted path."""
    parsed: dict[str, list[EndpointSpec]] = {}

    def parse(criteria: dict[str, Any] | None, endpoints: list[dict[str, Any]], path: str) -> None:
        parsed[path] = build_endpoint_specs(criteria, endpoints, path=path)
        assert len(parsed[path]) == len(endpoints)

    document = yaml.safe_load(protocol_file.read_text(encoding="utf-8"))
    resolve_protocol(document, validate_endpoints=parse)
    return parsed


@pytest.mark.skipif(not PROTOCOL_FILES, reason="no protocol files yet")
@pytest.mark.parametrize("protocol_file", PROTOCOL_FILES, ids=lambda file: file.name)
def test_every_endpoint_of_every_protocol_version_parses_and_evaluates(
    protocol_file: Path,
) -> None:
    parsed = protocol_endpoint_specs(protocol_file)
    assert parsed, f"{protocol_file.name}: no endpoints found"
    patient = course(
        [*RESPONDER, (28, 80), (84, 120), (180, 90), (360, 95), (730, 100)],
        hb=[(-1, 70), (180, 110), (730, 125)],
        scores={"ESSDAI": [(-3, "12"), (84, "8")], "ESSPRI": [(0, "6"), (84, "5")]},
        as_of=800,
    )
    for specs in parsed.values():
        for code, result in evaluate_endpoints(specs, patient).items():
            assert result.detail, f"{protocol_file.name} {code}: empty detail"
