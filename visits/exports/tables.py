"""The record tables of a study, named once for the audit log, the exports and the codebook.

Each table is a patient's record (or a record of a patient's record): it knows the path from its
rows to the patient, the API resource that serves it and the fields it exports. Rows are read
either live or, for a cut `as_of` an instant, from the django-simple-history table: the latest
history row of each record written at or before that instant (deleted rows excluded), which is
the record exactly as it stood then.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.db.models import F, QuerySet

from ecrf.audit import latest_versions
from patients.models import Consent, EligibilityAssessment, Patient
from visits.dosing.models import DoseAdjustment, DosePlan, DoseRecord, TitrationDecision
from visits.endpoints.models import PatientAssessment
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
from visits.safety.models import SERIOUSNESS_FIELDS, AdverseEvent, AdverseEventDrugAssessment

# Bookkeeping columns of the audit trail rather than clinical data; the record's `version` and
# void fields stay in every export.
HISTORY_ONLY = frozenset({"updated_at"})
# The keys of a lab result's `ctcae` object in the API (stored as `ctcae_<key>`).
CTCAE_SUGGESTION_KEYS = ("term", "meddra_code", "grade", "basis")


@dataclass(frozen=True)
class RecordTable:
    name: str  # the CSV file and ODM form name, e.g. "labs"
    resource: str  # the API resource serving it, e.g. "lab-results"
    model: type[models.Model]
    patient_path: str  # "" for the patient itself, else "patient" or "adverse_event__patient"
    title: str
    # Model field → the name the API answer gives it, where the two differ (see `export_name`).
    api_names: Mapping[str, str] = field(default_factory=dict)

    def prefix(self) -> str:
        return f"{self.patient_path}__" if self.patient_path else ""

    @property
    def patient_id_path(self) -> str:
        return f"{self.patient_path}_id" if self.patient_path else "id"

    @property
    def fields(self) -> list[models.Field]:
        """The exported fields in model order, named as the API names them."""
        return [f for f in self.model._meta.concrete_fields if f.name not in HISTORY_ONLY]

    def export_name(self, model_field: models.Field) -> str:
        """The field's name in every export: the API's. A part of a nested object or of a list
        of codes in the API answer is `<api field>.<key>` (`ctcae.grade`,
        `seriousness_criteria.death`)."""
        return self.api_names.get(model_field.name, model_field.name)

    @property
    def has_void(self) -> bool:
        return any(f.name == "is_voided" for f in self.model._meta.concrete_fields)


TABLES: tuple[RecordTable, ...] = (
    RecordTable("patients", "patients", Patient, "", "Patients"),
    RecordTable("consents", "consents", Consent, "patient", "Informed consent"),
    RecordTable(
        "eligibility", "eligibility", EligibilityAssessment, "patient", "Eligibility evaluations"
    ),
    RecordTable("visits", "visits", Visit, "patient", "Visits"),
    RecordTable(
        "labs",
        "lab-results",
        LabResult,
        "patient",
        "Laboratory results",
        # The API nests the suggestion: {"ctcae": {"term", "meddra_code", "grade", "basis"}}.
        api_names={
            "source_accession": "accession",  # the API's one name for it (issue 11)
            **{f"ctcae_{key}": f"ctcae.{key}" for key in CTCAE_SUGGESTION_KEYS},
        },
    ),
    RecordTable("dose_plans", "dose-plans", DosePlan, "patient", "Dose plans"),
    RecordTable("doses", "dose-records", DoseRecord, "patient", "Doses given"),
    RecordTable(
        "dose_adjustments",
        "dose-adjustments",
        DoseAdjustment,
        "patient",
        "Dose changes",
        api_names={"adverse_event": "adverse_event_id"},
    ),
    RecordTable(
        "titration_decisions", "titration-decisions", TitrationDecision, "patient", "Titrations"
    ),
    RecordTable(
        "adverse_events",
        "adverse-events",
        AdverseEvent,
        "patient",
        "Adverse events",
        # The API lists the criteria met: {"seriousness_criteria": ["death", ...]}.
        api_names={
            model_field: f"seriousness_criteria.{criterion}"
            for model_field, criterion in SERIOUSNESS_FIELDS.items()
        },
    ),
    RecordTable(
        "ae_drug_assessments",
        "ae-drug-assessments",
        AdverseEventDrugAssessment,
        "adverse_event__patient",
        "Adverse event causality per drug",
    ),
    RecordTable("bleeding", "bleeding-assessments", BleedingAssessment, "patient", "Bleeding"),
    RecordTable("rescue_therapy", "rescue-therapies", RescueTherapy, "patient", "Rescue therapy"),
    RecordTable("ecog", "ecog-assessments", EcogAssessment, "patient", "ECOG performance status"),
    RecordTable("vital_signs", "vital-signs", VitalSigns, "patient", "Vital signs"),
    RecordTable("essdai", "essdai-assessments", EssdaiAssessment, "patient", "ESSDAI"),
    RecordTable("esspri", "esspri-assessments", EsspriAssessment, "patient", "ESSPRI"),
    RecordTable("assessments", "assessments", PatientAssessment, "patient", "Endpoint assessments"),
)
TABLES_BY_NAME = {table.name: table for table in TABLES}
TABLES_BY_RESOURCE = {table.resource: table for table in TABLES}


def subject_annotations(table: RecordTable) -> dict[str, F]:
    """Every exported row carries its patient's id, subject id and site, read by join."""
    prefix = table.prefix()
    return {
        "x_patient_id": F(table.patient_id_path),
        "x_subject_id": F(f"{prefix}subject_id"),
        "x_site_id": F(f"{prefix}site_id"),
        "x_site_code": F(f"{prefix}site__code"),
    }


def study_rows(
    table: RecordTable, study_id: int, site_ids: list[int] | None, as_of: dt.datetime | None
) -> QuerySet:
    """The table's rows of one study (of `site_ids` only, unless None), now or as of a cut,
    ordered by subject id and record id, each annotated with its subject (`x_*`)."""
    prefix = table.prefix()
    scope = {f"{prefix}study_id": study_id}
    if site_ids is not None:
        scope[f"{prefix}site_id__in"] = site_ids
    if as_of is None:
        queryset = table.model._default_manager.filter(**scope)
    else:
        queryset = latest_versions(table.model, as_of, **scope).exclude(history_type="-")
    return queryset.annotate(**subject_annotations(table)).order_by("x_subject_id", "id")


def history_rows(
    table: RecordTable, study_id: int, site_ids: list[int] | None, as_of: dt.datetime | None
) -> QuerySet:
    """Every history row of the table's records in the study up to `as_of`, grouped by subject
    and record, oldest first within a record."""
    prefix = table.prefix()
    scope = {f"{prefix}study_id": study_id}
    if site_ids is not None:
        scope[f"{prefix}site_id__in"] = site_ids
    if as_of is not None:
        scope["history_date__lte"] = as_of
    return (
        table.model.history.filter(**scope)
        .annotate(**subject_annotations(table), x_username=F("history_user__username"))
        .order_by("x_subject_id", "id", "history_date", "history_id")
    )


def field_value(row, field: models.Field):
    """The stored value of a field (a foreign key's id), as read from a live or history row."""
    return getattr(row, field.attname)


def text(value) -> str:
    """One cell: ISO dates and datetimes (UTC offset), plain decimals, JSON with sorted keys."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def choice_labels(field: models.Field) -> dict | None:
    """A coded field's labels by raw value, or None for a field without codes."""
    if not field.choices:
        return None
    return {str(value): str(label) for value, label in field.flatchoices}
