"""What the per-trial endpoint tests share: the trials, the stored design, course builders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ecrf.domain.endpoints import (
    BleedingObservation,
    EndpointResult,
    EndpointSpec,
    Observation,
    PatientCourse,
    RescueEpisode,
    ResponseCriteria,
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


def load_stored_design() -> None:
    """Reads every stored protocol version's design back from the database, once."""
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
