"""Screening a patient, consent, the status machine, voiding, and the timeline selector."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patients.models import Consent, Patient, PatientStatus
from patients.selectors import patient_timeline, patient_timelines
from patients.status_machine import TRANSITIONS, Via, move_allowed

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def patient(multisite_study, make_patient, coordinator):
    return make_patient(multisite_study, "PKUPH", actor=coordinator)


def screening_body(study_row, site_row, **overrides):
    body = {
        "study": study_row.pk,
        "site": site_row.pk,
        "sex": "F",
        "birth_date": "1975-03-02",
        "height_cm": "162.0",
        "weight_kg": "58.5",
    }
    body.update(overrides)
    return body


# --- Screening (POST /api/patients/) ----------------------------------------------------------


def test_screening_returns_id_subject_id_and_status(client_for, coordinator, multisite_study):
    site = multisite_study.sites.get(code="PKUPH")
    response = client_for(coordinator).post(
        "/api/patients/", screening_body(multisite_study, site), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["subject_id"], body["status"]) == ("PKUPH-0001", "screening")
    assert Patient.objects.get(pk=body["id"]).screened_on == TODAY


def test_subject_ids_are_numbered_per_site(make_patient, multisite_study):
    numbers = [
        make_patient(multisite_study, code).subject_id for code in ("PKUPH", "NAVY", "PKUPH")
    ]
    assert numbers == ["PKUPH-0001", "NAVY-0001", "PKUPH-0002"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"site": 999999}, "site"),
        ({"study": 999999}, "study"),
        ({"birth_date": TOMORROW.isoformat()}, "birth_date"),
        ({"screened_on": TOMORROW.isoformat()}, "screened_on"),
        ({"birth_date": "2025-02-01", "screened_on": "2025-01-06"}, "birth_date"),
        ({"birth_date": "not a date"}, "birth_date"),
        ({"sex": "X"}, "sex"),
        ({"height_cm": "30"}, "height_cm"),
        ({"weight_kg": "900"}, "weight_kg"),
        ({"height_cm": None}, "height_cm"),
    ],
)
def test_bad_screening_input_is_a_400_naming_the_field_and_stores_nothing(
    client_for, coordinator, multisite_study, overrides, field
):
    site = multisite_study.sites.get(code="PKUPH")
    body = screening_body(multisite_study, site, **overrides)
    response = client_for(coordinator).post("/api/patients/", body, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not Patient.objects.exists()


def test_site_of_another_study_is_an_unknown_site(client_for, make_user, study, multisite_study):
    user = make_user("ivy", "investigator", "NCT03304288")
    other_site = study.sites.get(code="PKUPH")
    body = screening_body(multisite_study, other_site)
    response = client_for(user).post("/api/patients/", body, format="json")
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, "site")
    assert not Patient.objects.exists()


def test_monitor_may_not_screen(client_for, make_user, multisite_study):
    user = make_user("mo", "monitor", "NCT03304288")
    site = multisite_study.sites.get(code="PKUPH")
    response = client_for(user).post(
        "/api/patients/", screening_body(multisite_study, site), format="json"
    )
    assert response.status_code == 403
    assert not Patient.objects.exists()


# --- Consent ----------------------------------------------------------------------------------


def test_consent_is_recorded_and_audited(client_for, coordinator, patient):
    client = client_for(coordinator)
    body = {"consented_at": "2025-01-03", "consent_version": "2.1 (2024-11-01)"}
    response = client.post(f"/api/patients/{patient.pk}/consent/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["consented_at"] == "2025-01-03"
    consent = Consent.objects.get(patient=patient)
    [entry] = consent.history.all()
    assert (entry.history_user, entry.history_change_reason) == (
        coordinator,
        "Consent 2.1 (2024-11-01) recorded",
    )
    listed = client.get(f"/api/patients/{patient.pk}/consent/").json()
    assert listed["count"] == 1
    assert [c["consent_version"] for c in listed["results"]] == ["2.1 (2024-11-01)"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"consented_at": TOMORROW.isoformat(), "consent_version": "1"}, "consented_at"),
        ({"consented_at": "1970-01-01", "consent_version": "1"}, "consented_at"),
        ({"consented_at": "2025-01-03", "consent_version": "  "}, "consent_version"),
        ({"consented_at": "2025-01-03"}, "consent_version"),
        ({"consent_version": "1"}, "consented_at"),
    ],
)
def test_bad_consent_is_a_400_and_stores_nothing(client_for, coordinator, patient, body, field):
    response = client_for(coordinator).post(
        f"/api/patients/{patient.pk}/consent/", body, format="json"
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not Consent.objects.exists()


def test_consent_of_a_patient_at_a_foreign_site_is_a_404(
    client_for, make_user, multisite_study, make_patient
):
    foreign = make_patient(multisite_study, "NAVY")
    client = client_for(make_user("cora", "coordinator", "NCT03304288", ["PKUPH"]))
    body = {"consented_at": "2025-01-03", "consent_version": "1"}
    assert client.post(f"/api/patients/{foreign.pk}/consent/", body).status_code == 404
    assert not Consent.objects.exists()


def test_monitor_may_not_record_consent(client_for, make_user, patient):
    client = client_for(make_user("mo", "monitor", "NCT03304288"))
    body = {"consented_at": "2025-01-03", "consent_version": "1"}
    assert client.post(f"/api/patients/{patient.pk}/consent/", body).status_code == 403
    assert not Consent.objects.exists()


# --- Status machine ---------------------------------------------------------------------------

S = PatientStatus


@pytest.mark.parametrize(
    ("current", "target", "via", "allowed"),
    [
        (S.SCREENING, S.ELIGIBLE, Via.ELIGIBILITY, True),
        (S.SCREENING, S.ELIGIBLE, Via.MANUAL, False),  # only an evaluation finds eligibility
        (S.SCREENING, S.SCREEN_FAILED, Via.MANUAL, True),  # declined, consent withdrawn
        (S.SCREEN_FAILED, S.ELIGIBLE, Via.ELIGIBILITY, True),  # re-evaluated after correction
        (S.SCREENING, S.RANDOMIZED, Via.ALLOCATION, False),
        (S.ELIGIBLE, S.RANDOMIZED, Via.ALLOCATION, True),
        (S.ELIGIBLE, S.RANDOMIZED, Via.MANUAL, False),
        (S.ELIGIBLE, S.ENROLLED, Via.ALLOCATION, True),
        (S.RANDOMIZED, S.ON_TREATMENT, Via.MANUAL, True),
        (S.ENROLLED, S.ON_TREATMENT, Via.MANUAL, True),
        (S.ON_TREATMENT, S.FOLLOW_UP, Via.MANUAL, True),
        (S.FOLLOW_UP, S.COMPLETED, Via.MANUAL, True),
        (S.ON_TREATMENT, S.WITHDRAWN, Via.MANUAL, True),
        (S.RANDOMIZED, S.SCREENING, Via.ELIGIBILITY, False),
        (S.COMPLETED, S.WITHDRAWN, Via.MANUAL, False),
        (S.WITHDRAWN, S.ON_TREATMENT, Via.MANUAL, False),
        (S.SCREENING, S.WITHDRAWN, Via.MANUAL, False),  # before allocation: a screen failure
    ],
)
def test_status_machine(current, target, via, allowed):
    assert move_allowed(current, target, via) is allowed


def test_terminal_statuses_have_no_way_out():
    assert not [key for key in TRANSITIONS if key[0] in (S.COMPLETED, S.WITHDRAWN)]


@pytest.fixture
def randomized(multisite_study, make_patient, screen_eligible, allocation_list, coordinator):
    from patients.randomization import patient_randomize

    allocation_list(multisite_study)
    patient = screen_eligible(make_patient(multisite_study, "PKUPH"))
    patient_randomize(actor=coordinator, patient=patient)
    patient.refresh_from_db()
    return patient


def move(client, patient, **body):
    return client.post(f"/api/patients/{patient.pk}/status/", body, format="json")


def test_a_withdrawal_records_reason_code_and_date_and_is_audited(
    client_for, coordinator, randomized
):
    client = client_for(coordinator)
    assert (
        move(
            client, randomized, status="on_treatment", on=TODAY.isoformat(), reason="Day 1 dose"
        ).status_code
        == 200
    )
    response = move(
        client,
        randomized,
        status="withdrawn",
        on=TODAY.isoformat(),
        reason="Grade 3 hepatotoxicity",
        reason_code="adverse_event",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["status_changed_on"], body["status_reason_codes"]) == (
        "withdrawn",
        TODAY.isoformat(),
        ["adverse_event"],
    )
    assert patient_timeline(randomized.pk).withdrawn_on == TODAY
    history = client.get(f"/api/patients/{randomized.pk}/history/").json()["results"]
    assert history[-1]["reason"] == "Status withdrawn: Grade 3 hepatotoxicity"
    assert {"field": "status", "old": "on_treatment", "new": "withdrawn"} in history[-1]["changes"]


@pytest.mark.parametrize(
    ("body", "status_code", "field"),
    [
        ({"status": "withdrawn", "reason": "moved away"}, 400, "on"),
        ({"status": "withdrawn", "on": "TODAY"}, 400, "reason"),
        ({"status": "withdrawn", "on": "TODAY", "reason": "moved away"}, 400, "reason_code"),
        (
            {"status": "withdrawn", "on": "TODAY", "reason": "x", "reason_code": "bored"},
            400,
            "reason_code",
        ),
        (
            {"status": "withdrawn", "on": "TOMORROW", "reason": "x", "reason_code": "other"},
            400,
            "on",
        ),
        (
            {"status": "withdrawn", "on": "2024-01-01", "reason": "x", "reason_code": "other"},
            400,
            "on",
        ),
        ({"status": "completed", "on": "TODAY", "reason": "done"}, 409, "status"),
        ({"status": "eligible", "on": "TODAY", "reason": "x"}, 400, "status"),
        (
            {"status": "on_treatment", "on": "TODAY", "reason": "x", "reason_code": "other"},
            400,
            "reason_code",
        ),
    ],
)
def test_bad_status_moves_are_refused_and_change_nothing(
    client_for, coordinator, randomized, body, status_code, field
):
    dates = {"TODAY": TODAY.isoformat(), "TOMORROW": TOMORROW.isoformat()}
    if "on" in body:
        body = {**body, "on": dates.get(body["on"], body["on"])}
    versions = randomized.history.count()
    response = move(client_for(coordinator), randomized, **body)
    assert response.status_code == status_code, response.json()
    assert [e["field"] for e in response.json()["errors"]] == [field]
    randomized.refresh_from_db()
    assert (randomized.status, randomized.history.count()) == ("randomized", versions)


def test_screening_ends_for_a_non_criterion_reason(client_for, coordinator, patient):
    response = move(
        client_for(coordinator),
        patient,
        status="screen_failed",
        on="2025-01-07",
        reason="Declined after reading the consent form",
        reason_code="declined_to_participate",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status_reason_codes"] == ["declined_to_participate"]


# --- Void -------------------------------------------------------------------------------------


def test_an_allocated_patient_cannot_be_voided(client_for, coordinator, randomized):
    response = client_for(coordinator).delete(
        f"/api/patients/{randomized.pk}/", {"reason": "duplicate", "version": randomized.version}
    )
    assert response.status_code == 409
    randomized.refresh_from_db()
    assert randomized.is_voided is False


def test_a_patient_screened_in_error_is_voided(client_for, coordinator, patient):
    response = client_for(coordinator).delete(
        f"/api/patients/{patient.pk}/", {"reason": "duplicate entry", "version": 1}
    )
    assert response.status_code == 200
    assert response.json()["is_voided"] is True


# --- Timeline selector ------------------------------------------------------------------------


def test_timelines_give_day1_arm_and_withdrawal_in_one_query(
    django_assert_num_queries, randomized, patient
):
    with django_assert_num_queries(1):
        timelines = patient_timelines([randomized.pk, patient.pk])
    assert timelines[randomized.pk].day1 == TODAY
    assert timelines[randomized.pk].arm_code in ("RTX", "RTX_ATRA")
    assert timelines[randomized.pk].withdrawn_on is None
    assert (timelines[patient.pk].day1, timelines[patient.pk].arm_id) == (None, None)
