"""Endpoints restricted to some diagnoses (`applies_to_diagnoses`, see ecrf.domain.diagnoses).

A patient of another diagnosis gets a result marked not applicable (met, value and event None)
instead of an evaluation, so a report can leave them out of the denominators rather than count
them as non-responders.
"""

from __future__ import annotations

from collections.abc import Sequence

from ecrf.domain.diagnoses import restriction_verdict
from ecrf.domain.endpoints.course import EndpointResult, PatientCourse
from ecrf.domain.endpoints.spec import PLATELET_KINDS, EndpointSpec


def restricted_result(spec: EndpointSpec, course: PatientCourse) -> EndpointResult | None:
    """The result replacing the evaluation when the endpoint does not apply to the course's
    diagnosis (or cannot tell, its diagnosis being unrecorded); None to evaluate it."""
    verdict = restriction_verdict(spec.applies_to_diagnoses, course.diagnosis)
    if verdict is None:
        return None
    applicable, detail = verdict
    return EndpointResult(spec.code, spec.kind, None, None, None, detail, applicable=applicable)


def platelet_responses_apply(specs: Sequence[EndpointSpec], course: PatientCourse) -> bool:
    """Whether per-visit platelet responses mean anything for this patient: some platelet
    response endpoint applies to their diagnosis, or the protocol has none (then they are
    listed as before, for every patient)."""
    platelet_specs = [spec for spec in specs if spec.kind in PLATELET_KINDS]
    if not platelet_specs:
        return True
    return any(
        restriction_verdict(spec.applies_to_diagnoses, course.diagnosis) is None
        or not course.diagnosis
        for spec in platelet_specs
    )
