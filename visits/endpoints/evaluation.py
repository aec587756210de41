"""Turns stored data into the domain's PatientCourse and the engine's results into JSON."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from ecrf.domain.endpoints import (
    BleedingObservation,
    EndpointSpec,
    Observation,
    PatientCourse,
    RescueEpisode,
    assess_visits,
    build_endpoint_specs,
    evaluate_endpoints,
    parse_response_criteria,
    platelet_responses_apply,
)
from patients.models import Patient, PatientStatus
from trials.models import ProtocolVersion
from visits.endpoints.sources import CourseData
from visits.findings.models import TherapyKind


def endpoint_specs(protocol_version: ProtocolVersion) -> list[EndpointSpec]:
    """The version's endpoint definitions as the engine's typed specs."""
    raw = [
        {
            "code": e.code,
            "name": e.name,
            "kind": e.kind,
            "primary": e.is_primary,
            **e.parameters,
        }
        for e in protocol_version.endpoint_definitions.all()
    ]
    return build_endpoint_specs(protocol_version.response_criteria or {}, raw)


def withdrawal_date(patient: Patient) -> dt.date | None:
    if patient.status != PatientStatus.WITHDRAWN:
        return None
    return getattr(patient, "withdrawn_on", None) or patient.status_changed_on


def build_course(patient: Patient, data: CourseData, *, evaluated_on: dt.date) -> PatientCourse:
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
    return Observation(date=lab.collected_at.date(), value=lab.value_std)


def plain(value):
    """JSON-friendly numbers: 64 stays 64, 2.5 stays 2.5 (Decimals become int or float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def assess_patient(
    patient: Patient,
    protocol_version: ProtocolVersion,
    data: CourseData,
    *,
    evaluated_on: dt.date,
    specs: list[EndpointSpec] | None = None,
) -> dict:
    """Per-visit responses and endpoint results of one patient, ready to store or serve."""
    if patient.day1 is None:
        return {"visits": [], "endpoints": {}}
    specs = specs if specs is not None else endpoint_specs(protocol_version)
    course = build_course(patient, data, evaluated_on=evaluated_on)
    if protocol_version.diagnoses:
        # The study records diagnoses: a missing one ("") leaves restricted endpoints
        # not evaluable rather than evaluated as if they applied.
        course = replace(course, diagnosis=patient.diagnosis or "")
    criteria = parse_response_criteria(protocol_version.response_criteria or {})
    visit_codes = _visit_codes(patient, data)
    # Per-visit platelet responses only where a platelet response endpoint applies to the
    # patient's diagnosis (an AIHA patient's platelet counts are no response assessments).
    assessed = assess_visits(criteria, course) if platelet_responses_apply(specs, course) else []
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
    results = evaluate_endpoints(specs, course)
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


def _visit_codes(patient: Patient, data: CourseData):
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
