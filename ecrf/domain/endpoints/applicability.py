"""Endpoints restricted to some diagnoses (`applies_to_diagnoses`, see ecrf.domain.diagnoses):
whether a patient's platelet counts are response assessments at all.

The results themselves are marked not applicable by `registry.evaluate_endpoint`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ecrf.domain.diagnoses import restriction_verdict
from ecrf.domain.endpoints.course import PatientCourse
from ecrf.domain.endpoints.registry import Family, kinds_of
from ecrf.domain.endpoints.spec import EndpointSpec


def platelet_responses_apply(specs: Sequence[EndpointSpec], course: PatientCourse) -> bool:
    """Whether per-visit platelet responses mean anything for this patient: some platelet
    response endpoint applies to their diagnosis (or their diagnosis is not known), or the
    protocol has none (then they are listed as before, for every patient)."""
    platelet_kinds = kinds_of(family=Family.PLATELET)
    platelet_specs = [spec for spec in specs if spec.kind in platelet_kinds]
    if not platelet_specs or not course.diagnosis:
        return True
    return any(
        restriction_verdict(spec.applies_to_diagnoses, course.diagnosis) is None
        for spec in platelet_specs
    )
