"""Turns stored data into the domain's PatientCourse and the engine's results into JSON."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import NamedTuple

from ecrf.domain.endpoints import (
    BleedingObservation,
    EndpointSpec,
    Observation,
    PatientCourse,
    RescueEpisode,
    ResponseCriteria,
    assess_visits,
    build_endpoint_specs,
    evaluate_endpoints,
    parse_response_criteria,
    platelet_responses_apply,
    sharing_visit_responses,
)
from patients.models import PatientStatus
from trials.models import ProtocolVersion
from visits.endpoints.sources import CourseData
from visits.findings.models import TherapyKind


@dataclass(frozen=True)
class ProtocolRules:
    """A protocol version's response criteria and endpoint specs, parsed."""

    criteria: ResponseCriteria
    specs: tuple[EndpointSpec, ...]
    # The diagnosis codes the version enrols (empty when the study records no diagnosis).
    diagnoses: tuple[str, ...] = ()


# Parsed once per protocol version and process. The key carries the version's content hash: the
# criteria and endpoint definitions are loaded from that content and never edited afterwards, so
# a version whose content differed could not be served stale rules under the same key.
_RULES: dict[tuple[int, str], ProtocolRules] = {}
_RULES_KEPT = 64


def protocol_rules(
    version_id: int, content_hash: str, protocol_version: ProtocolVersion | None = None
) -> ProtocolRules:
    """The parsed rules of a version (two queries the first time in a process, none after)."""
    key = (version_id, content_hash)
    rules = _RULES.get(key)
    if rules is None:
        version = protocol_version or ProtocolVersion.objects.get(pk=version_id)
        raw = [
            {
                "code": e.code,
                "name": e.name,
                "kind": e.kind,
                "primary": e.is_primary,
                **e.parameters,
            }
            for e in version.endpoint_definitions.all()
        ]
        criteria = version.response_criteria or {}
        rules = ProtocolRules(
            criteria=parse_response_criteria(criteria),
            specs=tuple(build_endpoint_specs(criteria, raw)),
            diagnoses=tuple(diagnosis["code"] for diagnosis in version.diagnoses),
        )
        if len(_RULES) >= _RULES_KEPT:
            _RULES.clear()
        _RULES[key] = rules
    return rules


def rules_of(protocol_version: ProtocolVersion) -> ProtocolRules:
    return protocol_rules(protocol_version.pk, protocol_version.content_hash, protocol_version)


def endpoint_specs(protocol_version: ProtocolVersion) -> list[EndpointSpec]:
    """The version's endpoint definitions as the engine's typed specs."""
    return list(rules_of(protocol_version).specs)


def withdrawal_date(patient) -> dt.date | None:
    if patient.status != PatientStatus.WITHDRAWN:
        return None
    return getattr(patient, "withdrawn_on", None) or patient.status_changed_on


def build_course(patient, data: CourseData, *, evaluated_on: dt.date) -> PatientCourse:
    """`patient`: a Patient, its history row, or `PatientFacts` (the fields read here)."""
    labs = data.labs.get(patient.pk, [])
    therapies = data.rescue.get(patient.pk, [])
    rescue_rows = [r for r in therapies if _counts_as_additional_therapy(r, patient.day1)]
    return PatientCourse(
        day1=patient.day1,
        as_of=evaluated_on,
        platelets=[_observation(r) for r in labs if r.test_code == "PLAT"],
        haemoglobin=[_observation(r) for r in labs if r.test_code == "HGB"],
        bleeding=[
            BleedingObservation(date=b.assessed_at, who_grade=b.who_grade)
            for b in data.bleeding.get(patient.pk, [])
        ],
        rescue=[
            RescueEpisode(
                start=r.started_at,
                stop=r.stopped_at,
                itp_directed=r.itp_directed,
                therapy=r.therapy,
            )
            for r in rescue_rows
        ],
        transfusions=[r.started_at for r in therapies if r.kind == TherapyKind.TRANSFUSION],
        scores={
            "ESSDAI": [
                Observation(date=s.assessed_on, value=Decimal(s.total))
                for s in data.essdai.get(patient.pk, [])
            ],
            "ESSPRI": [
                Observation(date=s.assessed_on, value=s.score)
                for s in data.esspri.get(patient.pk, [])
            ],
        },
        withdrawn_on=withdrawal_date(patient),
        diagnosis=patient.diagnosis or None,
    )


def _counts_as_additional_therapy(therapy, day1: dt.date) -> bool:
    """Rescue therapy always; any other therapy marked ITP-directed when it starts after day 1,
    whatever its kind ("without additional ITP-modifying therapies"). An ITP-directed therapy
    started on or before day 1 is the stable background the patient entered the study on."""
    if therapy.kind == TherapyKind.RESCUE:
        return True
    return therapy.itp_directed and therapy.started_at > day1


def _observation(lab) -> Observation:
    return Observation(date=lab.collected_on, value=lab.value_std)


def plain(value):
    """JSON-friendly numbers: 64 stays 64, 2.5 stays 2.5 (Decimals become int or float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class PatientFacts(NamedTuple):
    """What the assessment reads of the patient row itself."""

    pk: int
    day1: dt.date | None
    status: str
    status_changed_on: dt.date | None
    diagnosis: str


def assess_patient(
    patient,
    protocol_version: ProtocolVersion | None,
    data: CourseData,
    *,
    evaluated_on: dt.date,
    specs: list[EndpointSpec] | None = None,
    rules: ProtocolRules | None = None,
) -> dict:
    """Per-visit responses and endpoint results of one patient, ready to store or serve.

    `patient`: a Patient, its history row or `PatientFacts`; `rules` (parsed) may stand for the
    protocol version."""
    if patient.day1 is None:
        return {"visits": [], "endpoints": {}}
    rules = rules or rules_of(protocol_version)
    specs = specs if specs is not None else list(rules.specs)
    course = build_course(patient, data, evaluated_on=evaluated_on)
    if rules.diagnoses:
        # The study records diagnoses: a missing one ("") leaves restricted endpoints
        # not evaluable rather than evaluated as if they applied.
        course = replace(course, diagnosis=patient.diagnosis or "")
    criteria = rules.criteria
    visit_codes = _visit_codes(patient, data)
    # The per-visit responses are computed once and shared by the stored visits and every
    # endpoint; they are listed only where a platelet response endpoint applies to the patient's
    # diagnosis (an AIHA patient's platelet counts are no response assessments).
    with sharing_visit_responses():
        assessed = (
            assess_visits(criteria, course) if platelet_responses_apply(specs, course) else []
        )
        results = evaluate_endpoints(specs, course)
    visits = [
        {
            "date": v.date.isoformat(),
            "visit": visit_codes(v.date),
            "platelet_count": plain(v.platelet_count),
            "response": v.response,
            "bleeding": v.bleeding,
            "rescue": v.rescue,
            "detail": v.detail,
        }
        for v in assessed
    ]
    endpoints = {
        code: {
            "kind": str(result.kind),
            "met": result.met,
            "value": plain(result.value),
            "event": result.event,
            "applicable": result.applicable,
            "detail": result.detail,
        }
        for code, result in results.items()
    }
    return {"visits": visits, "endpoints": endpoints}


def _visit_codes(patient, data: CourseData):
    """Names the visit of a date: the visit done that day, else the window it falls in."""
    visits = data.visits.get(patient.pk, [])
    done = {v.actual_date: v.code for v in visits if v.actual_date}
    windows = sorted(
        (v.window_start, v.window_end, v.code)
        for v in visits
        if v.window_start and v.window_end and v.definition_id
    )

    def code_for(day: dt.date) -> str | None:
        if day in done:
            return done[day]
        for start, end, code in windows:
            if start <= day <= end:
                return code
        return None

    return code_for
