"""The registry of endpoint kinds: each kind declared once, with everything that depends on it.

The parser reads from here which keys a kind accepts and needs, which family of response levels
it uses and whether ``match: exactly`` means something to it; the engine which evaluator computes
it; the study report and the exports how its results are summarised. A kind missing here does not
exist: looking it up is an error, never a silent default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ecrf.domain import protocol_readers as read
from ecrf.domain.diagnoses import restriction_verdict
from ecrf.domain.endpoints.counts import sharing_visit_responses
from ecrf.domain.endpoints.course import EndpointResult, PatientCourse
from ecrf.domain.endpoints.kinds import (
    evaluate_best_response,
    evaluate_duration_of_response,
    evaluate_haemoglobin_response,
    evaluate_peak_value,
    evaluate_response_at_time_point,
    evaluate_score_change,
    evaluate_time_to_response,
    evaluate_value_at_time_point,
)
from ecrf.domain.endpoints.runs import evaluate_sustained_response
from ecrf.domain.endpoints.spec import EndpointKind, EndpointSpec
from ecrf.domain.endpoints.windows import _cut, _data_end, _Outcome


class ResultType(StrEnum):
    """What a result carries, and so how the study report summarises it (its column type)."""

    BINARY = "binary"  # met: True / False / None (not yet decidable)
    CONTINUOUS = "continuous"  # value: a measured number (Decimal)
    TIME_TO_EVENT = "time_to_event"  # value: days, with event True (observed) or False (censored)


class Family(StrEnum):
    """Which response levels of the criteria a kind grades with."""

    PLATELET = "platelet"
    HAEMOGLOBIN = "haemoglobin"

    @property
    def series(self) -> str:
        """The lab series (test code) its levels and baseline are read from."""
        return "PLAT" if self is Family.PLATELET else "HGB"


# Keys every endpoint may carry, whatever its kind.
COMMON_KEYS = (
    "code",
    "name",
    "kind",
    "primary",
    "description",
    "notes",
    "applies_to_diagnoses",  # the diagnoses it applies to (ecrf.domain.diagnoses)
)
# Keys of the kinds that grade counts with response levels.
LEVEL_KEYS = ("level", "match", "criteria", "time_point")


@dataclass(frozen=True)
class KindDefinition:
    kind: EndpointKind
    evaluator: Callable[[EndpointSpec, PatientCourse], _Outcome]
    result: ResultType
    family: Family | None  # None: the kind reads a series or a score, not response levels
    keys: tuple[str, ...]  # protocol-file keys beyond COMMON_KEYS
    required: tuple[str, ...] = ()  # of `keys`, those that must be given
    exact_match: bool = True  # whether `match: exactly` has a meaning (runs are "or better")
    counts_improvement: bool = False  # a continuous kind whose `met` the report counts as improved

    @property
    def needs_time_point(self) -> bool:
        return "time_point" in self.required

    @property
    def allowed_keys(self) -> tuple[str, ...]:
        return COMMON_KEYS + self.keys


_DEFINITIONS = (
    KindDefinition(
        EndpointKind.BEST_RESPONSE,
        evaluate_best_response,
        ResultType.BINARY,
        Family.PLATELET,
        keys=LEVEL_KEYS,
        required=("time_point",),
    ),
    KindDefinition(
        EndpointKind.RESPONSE_AT_TIME_POINT,
        evaluate_response_at_time_point,
        ResultType.BINARY,
        Family.PLATELET,
        keys=(*LEVEL_KEYS, "confirmed_by"),
        required=("time_point",),
    ),
    KindDefinition(
        EndpointKind.SUSTAINED_RESPONSE,
        evaluate_sustained_response,
        ResultType.BINARY,
        Family.PLATELET,
        keys=(*LEVEL_KEYS, "duration_days", "after_response"),
        required=("duration_days",),
        exact_match=False,
    ),
    KindDefinition(
        EndpointKind.TIME_TO_RESPONSE,
        evaluate_time_to_response,
        ResultType.TIME_TO_EVENT,
        Family.PLATELET,
        keys=LEVEL_KEYS,
        exact_match=False,
    ),
    KindDefinition(
        EndpointKind.DURATION_OF_RESPONSE,
        evaluate_duration_of_response,
        ResultType.TIME_TO_EVENT,
        Family.PLATELET,
        keys=LEVEL_KEYS,
        exact_match=False,
    ),
    KindDefinition(
        EndpointKind.PEAK_VALUE,
        evaluate_peak_value,
        ResultType.CONTINUOUS,
        None,
        keys=("test_code", "time_point"),
        required=("test_code",),
    ),
    KindDefinition(
        EndpointKind.VALUE_AT_TIME_POINT,
        evaluate_value_at_time_point,
        ResultType.CONTINUOUS,
        None,
        keys=("test_code", "time_point"),
        required=("time_point", "test_code"),
    ),
    KindDefinition(
        EndpointKind.HAEMOGLOBIN_RESPONSE,
        evaluate_haemoglobin_response,
        ResultType.BINARY,
        Family.HAEMOGLOBIN,
        keys=(*LEVEL_KEYS, "transfusion_free_days"),
        required=("time_point",),
    ),
    KindDefinition(
        EndpointKind.SCORE_CHANGE,
        evaluate_score_change,
        ResultType.CONTINUOUS,
        None,
        keys=("score", "mcii", "time_point"),
        required=("time_point", "score"),
        counts_improvement=True,
    ),
)
KINDS: dict[EndpointKind, KindDefinition] = {item.kind: item for item in _DEFINITIONS}
# Every key some kind accepts: a key outside it is unknown, not merely misplaced.
ENDPOINT_KEYS = COMMON_KEYS + tuple(
    dict.fromkeys(key for item in _DEFINITIONS for key in item.keys)
)


def kind_definition(kind: object, where: str = "kind") -> KindDefinition:
    """The registry entry of a kind given as text or EndpointKind; an unknown kind is an error
    naming `where`."""
    return KINDS[read.choice(kind, where, EndpointKind)]


def kinds_of(
    *, result: ResultType | None = None, family: Family | None = None
) -> frozenset[EndpointKind]:
    """The kinds with the given result type and/or family."""
    return frozenset(
        item.kind
        for item in _DEFINITIONS
        if (result is None or item.result is result) and (family is None or item.family is family)
    )


def evaluate_endpoints(
    specs: Sequence[EndpointSpec], course: PatientCourse
) -> dict[str, EndpointResult]:
    # Every endpoint reads the same per-visit responses: work them out once for the course.
    with sharing_visit_responses():
        return {spec.code: evaluate_endpoint(spec, course) for spec in specs}


def evaluate_endpoint(spec: EndpointSpec, course: PatientCourse) -> EndpointResult:
    # An endpoint restricted to other diagnoses than the patient's is not applicable (met,
    # value and event None), never "not met" (ecrf.domain.diagnoses).
    verdict = restriction_verdict(spec.applies_to_diagnoses, course.diagnosis)
    if verdict is not None:
        applicable, detail = verdict
        return EndpointResult(spec.code, spec.kind, None, None, None, detail, applicable)
    visible = _cut(course, _data_end(course))
    met, value, event, detail = KINDS[spec.kind].evaluator(spec, visible)
    return EndpointResult(spec.code, spec.kind, met, value, event, detail)
