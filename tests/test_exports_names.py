"""The exports speak the API's names: every CSV column of every domain is a field of the API
answer that serves the table (or `<field>.<key>` of a nested object or a list of codes there),
except the few export-only columns listed here — exactly these, so a rename on either side fails.
The ODM items and the codebook take the same names; SDTM keeps SDTM's."""

from __future__ import annotations

import pytest
from django.urls import resolve

from patients.api import ConsentSerializer, EligibilityAssessmentSerializer
from visits.dosing.api.serializers import DosePlanSerializer, TitrationDecisionSerializer
from visits.endpoints.api import PatientAssessmentSerializer
from visits.exports.codebook import codebook_rows
from visits.exports.csv_export import csv_header
from visits.exports.odm import item_oid
from visits.exports.tables import TABLES, TABLES_BY_NAME

# Answers served under a patient (`/api/patients/{id}/consents/`...), not as a list of their own.
NESTED_ANSWERS = {
    "consents": ConsentSerializer,
    "eligibility": EligibilityAssessmentSerializer,
    "dose-plans": DosePlanSerializer,
    "titration-decisions": TitrationDecisionSerializer,
    "assessments": PatientAssessmentSerializer,
}
SUBJECT = {"subject_id", "site_code"}
VOID = {"voided_at", "voided_by"}
# Export-only columns: the subject of every row, the record's bookkeeping that an answer leaves
# out, and stored fields from which the answer derives what it shows.
EXPORT_ONLY = {
    "patients": VOID | {"site_sequence"},
    "consents": SUBJECT | VOID | {"void_reason", "patient"},
    "eligibility": SUBJECT | {"version", "answered_by"},
    "visits": {"site_code", "created_at", "definition"} | VOID,
    "labs": {"site_code"} | VOID,
    "dose_plans": SUBJECT | VOID | {"void_reason", "patient"},
    "doses": {"site_code", "voided_by"},
    "dose_adjustments": {"site_code", "voided_by", "regimen"},
    "titration_decisions": SUBJECT | VOID | {"void_reason", "created_at"},
    "adverse_events": {"site_code"} | VOID,
    "ae_drug_assessments": SUBJECT | VOID,
    "bleeding": {"site_code", "voided_by"},
    "rescue_therapy": {"site_code", "voided_by"},
    "ecog": {"site_code", "voided_by"},
    "vital_signs": {"site_code", "voided_by"},
    "essdai": {"site_code", "voided_by"},
    "esspri": {"site_code", "voided_by"},
    "assessments": {"site_code", "id", "created_at", "version", "evaluated_on"},
}


def _answer_fields(resource: str) -> set[str]:
    serializer = NESTED_ANSWERS.get(resource)
    if serializer is None:
        view = resolve(f"/api/{resource}/").func.cls
        serializer = getattr(view, "output_serializer_class", None) or view.serializer_class
    return set(serializer().fields)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_csv_column_is_named_as_the_api_names_it(table):
    answer = _answer_fields(table.resource)
    columns = [c for c in csv_header(table) if not c.endswith("_label")]

    not_in_answer = {c for c in columns if c not in answer and c.split(".")[0] not in answer}

    assert not_in_answer == EXPORT_ONLY[table.name]


def test_nested_and_listed_api_fields_are_flattened_with_a_dot():
    events = TABLES_BY_NAME["adverse_events"]
    labs = TABLES_BY_NAME["labs"]

    ae_columns = csv_header(events)
    lab_columns = csv_header(labs)

    assert [c for c in ae_columns if c.startswith("seriousness_criteria.")] == [
        "seriousness_criteria.death",
        "seriousness_criteria.life_threatening",
        "seriousness_criteria.hospitalisation",
        "seriousness_criteria.disability",
        "seriousness_criteria.congenital_anomaly",
        "seriousness_criteria.other_important",
    ]
    assert not [c for c in ae_columns if c.startswith("serious_")]
    assert [c for c in lab_columns if c.startswith("ctcae")] == [
        "ctcae.term",
        "ctcae.meddra_code",
        "ctcae.grade",
        "ctcae.basis",
        "ctcae_note",
    ]
    assert "adverse_event_id" in csv_header(TABLES_BY_NAME["dose_adjustments"])
    death = events.model._meta.get_field("serious_death")
    assert item_oid(events, death) == "IT.ADVERSE_EVENTS.SERIOUSNESS_CRITERIA.DEATH"


def test_the_codebook_names_the_fields_as_the_csv_does(study):
    version = study.protocol_versions.get(number=1)

    rows = [r for r in codebook_rows(version) if r[1] == "field"]

    for table in TABLES:
        leading = [
            c for c in ("subject_id", "site_code") if c not in {f.name for f in table.fields}
        ]
        fields = [c for c in csv_header(table) if not c.endswith("_label")][len(leading) :]
        assert [r[3] for r in rows if r[2] == table.name] == fields, table.name
    ae_fields = [r[3] for r in rows if r[2] == "adverse_events"]
    assert "seriousness_criteria.death" in ae_fields
    assert "serious_death" not in ae_fields
