"""Every write to what the endpoint assessment reads refreshes the stored assessment; writes to
what it does not read (dose records) leave it alone. The recorders do not know the assessor:
the refresh is registered by the endpoints app with `ecrf.after_write`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from ecrf.after_write import registered_hooks
from ecrf.audit import save_audited
from patients.models import Patient
from tests.test_findings_scores import NO_ACTIVITY
from tests.test_study_report import Course, TrialBuilder
from visits.endpoints.evaluation import assess_patient
from visits.endpoints.models import PatientAssessment
from visits.endpoints.sources import ASSESSED_MODELS, COURSE_SOURCES, CourseData
from visits.findings.services.scores import essdai_assessment_create, esspri_assessment_create

pytestmark = pytest.mark.django_db

STALE_VISITS = [{"date": "2000-01-01", "visit": "STALE"}]


@pytest.fixture
def builder(client_for, make_user, study, tmp_path):
    data_manager = make_user("dana", "data_manager", "NCT05471050")
    statistician = make_user("stan", "statistician", "NCT05471050")
    return TrialBuilder(client_for(data_manager), study, tmp_path, statistician)


@pytest.fixture
def followed(builder):
    """One patient with counts on day 28, 180 and 189, a bleeding assessment, rescue therapy,
    an ESSDAI and an ESSPRI: one row of every source the assessment reads."""
    builder.enter([Course("TAC_DAN", 90, 60, rescue=True)])
    patient_id, _, day1, _ = builder.patients[0]
    builder.post(
        "/api/bleeding-assessments/",
        {"patient": patient_id, "assessed_at": (day1 + dt.timedelta(days=40)).isoformat(),
         "who_grade": 1},
    )  # fmt: skip
    patient = Patient.objects.get(pk=patient_id)
    actor = get_user_model().objects.get(username="dana")
    on = day1 + dt.timedelta(days=50)
    essdai_assessment_create(actor=actor, patient=patient, assessed_on=on, **NO_ACTIVITY)
    esspri_assessment_create(
        actor=actor, patient=patient, assessed_on=on, dryness=Decimal(6), fatigue=Decimal(5),
        pain=Decimal(4),
    )  # fmt: skip
    return builder, patient, day1


def make_stale(patient: Patient) -> None:
    # A plain queryset update (no history, no hook): only the test may bypass the services.
    PatientAssessment.objects.filter(patient=patient).update(visits=STALE_VISITS, endpoints={})


def fresh_assessment(patient: Patient) -> dict:
    patient = Patient.objects.select_related("study").get(pk=patient.pk)
    version = patient.study.current_protocol()
    return assess_patient(
        patient, version, CourseData([patient.pk], as_of=None), evaluated_on=dt.date.today()
    )


def test_an_unscheduled_visit_on_a_lab_date_relabels_the_stored_visit(builder):
    builder.enter([Course("TAC_DAN", 90, 60)])
    patient_id, _, day1, _ = builder.patients[0]
    day28 = (day1 + dt.timedelta(days=28)).isoformat()
    stored = PatientAssessment.objects.get(patient_id=patient_id)
    assert next(v["visit"] for v in stored.visits if v["date"] == day28) == "W4"

    builder.post(f"/api/patients/{patient_id}/unscheduled-visits/", {"actual_date": day28})

    stored.refresh_from_db()
    assert next(v["visit"] for v in stored.visits if v["date"] == day28) == "U1"
    assert stored.history.first().history_change_reason == (
        "Endpoints recomputed: Unscheduled visit U1 recorded"
    )


def test_the_refresh_is_registered_for_exactly_the_models_the_assessment_reads():
    [hook] = [h for h in registered_hooks() if h.name == "endpoint assessment"]
    assert hook.models == frozenset(ASSESSED_MODELS)
    assert {model for _, model, _ in COURSE_SOURCES} | {Patient} == set(ASSESSED_MODELS)


@pytest.mark.parametrize("model", ASSESSED_MODELS, ids=lambda m: m.__name__)
def test_a_write_to_each_source_refreshes_the_stored_assessment(followed, model):
    _, patient, _ = followed
    if model is Patient:
        record = Patient.objects.get(pk=patient.pk)
    else:
        record = model._default_manager.filter(patient=patient).order_by("pk").first()
    assert record is not None, f"the fixture must hold a {model.__name__} row"
    make_stale(patient)
    history_rows = PatientAssessment.objects.get(patient=patient).history.count()

    save_audited(record, actor=None, reason=f"{model.__name__} re-saved")

    stored = PatientAssessment.objects.get(patient=patient)
    expected = fresh_assessment(patient)
    assert stored.visits == expected["visits"] != STALE_VISITS
    assert stored.endpoints == expected["endpoints"]
    assert stored.history.count() == history_rows + 1
    assert stored.history.first().history_change_reason == (
        f"Endpoints recomputed: {model.__name__} re-saved"
    )


def test_a_dose_record_does_not_refresh_the_assessment(followed):
    builder, patient, day1 = followed
    make_stale(patient)
    history_rows = PatientAssessment.objects.get(patient=patient).history.count()

    builder.post(
        "/api/dose-records/",
        {"patient": patient.pk, "drug": "tacrolimus", "start_date": day1.isoformat(),
         "dose_mg": "1.0", "frequency": "bid"},
    )  # fmt: skip

    stored = PatientAssessment.objects.get(patient=patient)
    assert (stored.visits, stored.endpoints) == (STALE_VISITS, {})
    assert stored.history.count() == history_rows


def test_a_bulk_import_refreshes_each_touched_patient_once(builder):
    builder.enter([Course("TAC_DAN", 90, 60), Course("DAN", 70, 60)])
    (first_id, first_subject, day1, _), (second_id, second_subject, _, _) = builder.patients
    before = {
        pid: PatientAssessment.objects.get(patient_id=pid).history.count()
        for pid in (first_id, second_id)
    }
    rows = [
        {"patient": subject, "test_code": "PLAT", "value": str(value), "unit": "10^9/L",
         "lln": "125", "uln": "350", "accession": f"X-{subject}-{day}",
         "collected_at": f"{(day1 + dt.timedelta(days=day)).isoformat()}T08:00:00Z"}
        for subject in (first_subject, second_subject)
        for day, value in ((90, 200), (120, 210))
    ]  # fmt: skip
    builder.bulk_labs(rows)

    for pid in (first_id, second_id):
        stored = PatientAssessment.objects.get(patient_id=pid)
        assert stored.history.count() == before[pid] + 1
        assert stored.endpoints["peak_platelet_count"]["value"] == 210
