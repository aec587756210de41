"""The records a query, a freeze or a lock can point at, named as the API's paths name them.

A query says `{"resource": "lab-results", "record_id": 12, "field": "value"}`: the resource is
the first segment of the record's API path, so a client that read `/api/lab-results/12/` can
query it without another vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from ecrf.exceptions import InvalidInput
from patients.models import Patient
from visits.dosing.models import DoseAdjustment, DoseRecord
from visits.findings.models import (
    BleedingAssessment,
    EcogAssessment,
    EssdaiAssessment,
    EsspriAssessment,
    RescueTherapy,
    VitalSigns,
)
from visits.labs.models import LabResult
from visits.models import Visit
from visits.safety.models import AdverseEvent, AdverseEventDrugAssessment

# Bookkeeping, not data a site enters: a query on them would ask nothing of the site.
UNQUERIABLE_FIELDS = frozenset(
    {"id", "created_at", "updated_at", "version", "voided_at", "voided_by"}
)


@dataclass(frozen=True)
class Resource:
    name: str
    model: type[models.Model]
    # Lookup path from the record to its patient; empty for the patient itself.
    patient_path: str

    def field_names(self) -> frozenset[str]:
        return frozenset(
            f.name for f in self.model._meta.concrete_fields if f.name not in UNQUERIABLE_FIELDS
        )

    def patient_of(self, record: models.Model) -> Patient:
        if not self.patient_path:
            return record
        target = record
        for part in self.patient_path.split("__"):
            target = getattr(target, part)
        return target


RESOURCES: dict[str, Resource] = {
    resource.name: resource
    for resource in (
        Resource("patients", Patient, ""),
        Resource("visits", Visit, "patient"),
        Resource("lab-results", LabResult, "patient"),
        Resource("adverse-events", AdverseEvent, "patient"),
        Resource("ae-drug-assessments", AdverseEventDrugAssessment, "adverse_event__patient"),
        Resource("bleeding-assessments", BleedingAssessment, "patient"),
        Resource("rescue-therapies", RescueTherapy, "patient"),
        Resource("ecog-assessments", EcogAssessment, "patient"),
        Resource("vital-signs", VitalSigns, "patient"),
        Resource("essdai-assessments", EssdaiAssessment, "patient"),
        Resource("esspri-assessments", EsspriAssessment, "patient"),
        Resource("dose-records", DoseRecord, "patient"),
        Resource("dose-adjustments", DoseAdjustment, "patient"),
    )
}
RESOURCE_OF_MODEL: dict[type[models.Model], Resource] = {r.model: r for r in RESOURCES.values()}


def resource_named(name: str) -> Resource:
    resource = RESOURCES.get(name)
    if resource is None:
        raise InvalidInput(
            f"Unknown resource {name!r}; one of: {', '.join(sorted(RESOURCES))}.",
            field="resource",
        )
    return resource


def check_field(resource: Resource, field: str) -> str:
    """An empty field queries the whole record; otherwise it must be a field of the record."""
    field = (field or "").strip()
    if field and field not in resource.field_names():
        raise InvalidInput(
            f"{resource.name} have no field {field!r}; one of: "
            f"{', '.join(sorted(resource.field_names()))}.",
            field="field",
        )
    return field
