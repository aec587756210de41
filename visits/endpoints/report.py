"""The study report: endpoints per arm with statistics, comparisons, adverse events, CONSORT.

Built with a constant number of queries whatever the number of patients: one per source table.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.utils import timezone

from ecrf.domain.endpoints import ResultType, kind_definition
from ecrf.domain.statistics import compare_binary, describe_continuous, kaplan_meier, proportion_ci
from patients.models import Patient
from patients.selectors import consort_counts
from trials.models import ProtocolVersion, Study
from visits.endpoints.report_diagnoses import (
    applicable_results,
    by_diagnosis,
    declared_diagnoses,
    restricted_to,
)
from visits.endpoints.selectors import assessments_for
from visits.endpoints.sources import patients_as_of, rows
from visits.safety.models import AdverseEvent, CtcaeTerm

FISHER = "Fisher's exact test, two-sided"


def endpoint_type(definition) -> ResultType:
    """The report's column type of a stored endpoint definition, from the registry of kinds; a
    kind the registry does not know is an error naming the definition, never a silent default."""
    return kind_definition(definition.kind, f"endpoint_definitions.{definition.code}.kind").result


def study_report(
    study: Study, *, protocol_version: ProtocolVersion, as_of: dt.datetime | None = None
) -> dict:
    definitions = list(protocol_version.endpoint_definitions.all())
    # Experimental arm(s) first: odds ratios read "experimental vs comparator".
    arms = sorted(study.arms.all(), key=lambda a: (a.arm_type != "experimental", a.code))
    patients = [
        p
        for p in patients_as_of(Patient.objects.filter(study=study), as_of)
        if p.arm_id is not None and p.day1 is not None and not p.is_voided
    ]
    assessments = assessments_for(patients, protocol_version=protocol_version, as_of=as_of)
    diagnoses = declared_diagnoses(protocol_version)
    by_arm: dict[int, list[tuple[str, dict]]] = defaultdict(list)
    for patient in patients:
        by_arm[patient.arm_id].append((patient.diagnosis, assessments[patient.pk]["endpoints"]))

    arm_rows = []
    for arm in arms:
        members = by_arm.get(arm.pk, [])
        results = [endpoints for _, endpoints in members]
        arm_rows.append(
            {
                "code": arm.code,
                "name": arm.name,
                "n": len(results),
                "endpoints": {d.code: summarize(d, results) for d in definitions},
                # Per arm × diagnosis (empty when the study records no diagnosis).
                "by_diagnosis": by_diagnosis(definitions, diagnoses, members, summarize),
            }
        )
    return {
        "study": study.registry_id,
        "protocol_version": protocol_version.number,
        "as_of": as_of.isoformat() if as_of else None,
        "generated_at": timezone.now().isoformat(),
        "endpoint_definitions": [
            {
                "code": d.code,
                "name": d.name,
                "kind": d.kind,
                "type": endpoint_type(d),
                "primary": d.is_primary,
                "applies_to_diagnoses": restricted_to(d),
            }
            for d in definitions
        ],
        "diagnoses": diagnoses,
        # What the results depend on beyond the registry text, so a reader can challenge it.
        "assumptions": protocol_version.assumptions,
        "arms": arm_rows,
        "comparisons": comparisons(definitions, arm_rows),
        "adverse_events": adverse_events_by_arm(patients, arms, as_of),
        "consort": consort_counts(study, as_of=as_of.date() if as_of else None),
    }


def summarize(definition, results: list[dict]) -> dict:
    stored = [r[definition.code] for r in results if definition.code in r]
    # Patients of a diagnosis the endpoint does not apply to are out of its denominators.
    values = applicable_results(stored)
    kind = kind_definition(definition.kind, f"endpoint_definitions.{definition.code}.kind")
    if kind.result is ResultType.BINARY:
        summary = binary_summary(values)
    elif kind.result is ResultType.TIME_TO_EVENT:
        summary = time_to_event_summary(values)
    else:
        summary = continuous_summary(values)
        if kind.counts_improvement:
            summary["improved"] = sum(1 for v in values if v["met"] is True)  # MCII reached
    if restricted_to(definition) is not None:
        summary["not_applicable"] = len(stored) - len(values)
    return summary


def binary_summary(values: list[dict]) -> dict:
    evaluable = [v for v in values if v["met"] is not None]
    responders = sum(1 for v in evaluable if v["met"])
    summary = {
        "type": "binary",
        "responders": responders,
        "n": len(evaluable),
        "not_evaluable": len(values) - len(evaluable),
        "rate": None,
        "ci_95": None,
        "ci_method": "Wilson score",
    }
    if evaluable:
        estimate = proportion_ci(responders, len(evaluable), method="wilson")
        summary["rate"] = estimate.rate
        summary["ci_95"] = [estimate.lower, estimate.upper]
    return summary


def continuous_summary(values: list[dict]) -> dict:
    numbers = [v["value"] for v in values if v["value"] is not None]
    if not numbers:
        return {"type": "continuous", "n": 0, "median": None, "q1": None, "q3": None}
    described = describe_continuous(numbers)
    return {
        "type": "continuous",
        "n": described.n,
        "median": described.median,
        "q1": described.q1,
        "q3": described.q3,
        "quantile_method": described.quantile_method,
    }


def time_to_event_summary(values: list[dict]) -> dict:
    observed = [v for v in values if v["value"] is not None and v["event"] is not None]
    if not observed:
        return {"type": "time_to_event", "n": 0, "events": 0, "censored": 0, "median": None}
    km = kaplan_meier([v["value"] for v in observed], [bool(v["event"]) for v in observed])
    return {
        "type": "time_to_event",
        "n": km.n,
        "events": km.events,
        "censored": km.censored,
        "median": km.median,
        "method": km.method,
    }


def comparisons(definitions, arm_rows: list[dict]) -> list[dict]:
    """Between the two arms of a two-arm study, for every binary endpoint."""
    if len(arm_rows) != 2:
        return []
    first, second = arm_rows
    out = []
    for definition in definitions:
        if endpoint_type(definition) is not ResultType.BINARY:
            continue
        a, b = first["endpoints"][definition.code], second["endpoints"][definition.code]
        if not a["n"] or not b["n"]:
            continue
        result = compare_binary(a["responders"], a["n"], b["responders"], b["n"])
        out.append(
            {
                "endpoint": definition.code,
                "arms": [first["code"], second["code"]],
                "odds_ratio": result.odds_ratio,
                "odds_ratio_ci_95": [result.odds_ratio_lower, result.odds_ratio_upper],
                "odds_ratio_method": result.odds_ratio_method,
                "risk_difference": result.risk_difference,
                "risk_difference_ci_95": [
                    result.risk_difference_lower,
                    result.risk_difference_upper,
                ],
                "risk_difference_method": result.risk_difference_method,
                "p_value": result.p_value,
                "test": result.test,
            }
        )
    return out


def adverse_events_by_arm(patients: list[Patient], arms, as_of: dt.datetime | None) -> dict:
    """Patients with any AE, by their worst CTCAE grade, and by term — per arm."""
    arm_of = {p.pk: p.arm_id for p in patients}
    events = list(
        rows(
            AdverseEvent, as_of, scope={"patient_id__in": list(arm_of)}, is_voided=False
        ).values_list("patient_id", "grade", "term_id")
    )
    term_names = dict(
        CtcaeTerm.objects.filter(pk__in={term for _, _, term in events}).values_list("pk", "term")
    )
    worst: dict[int, int] = {}
    terms: dict[int, set[str]] = defaultdict(set)
    for patient_id, grade, term_id in events:
        worst[patient_id] = max(worst.get(patient_id, 0), grade)
        terms[patient_id].add(term_names[term_id])
    out = {}
    for arm in arms:
        members = [pk for pk, arm_id in arm_of.items() if arm_id == arm.pk]
        with_ae = [pk for pk in members if pk in worst]
        by_term = Counter(term for pk in with_ae for term in terms[pk])
        out[arm.code] = {
            "patients": len(members),
            "patients_with_any_ae": len(with_ae),
            "by_worst_grade": {
                str(g): sum(1 for pk in with_ae if worst[pk] == g) for g in range(1, 6)
            },
            "by_term": dict(sorted(by_term.items())),
        }
    return out
