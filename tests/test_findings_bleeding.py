"""Bleeding assessments (WHO grade, ITP-BAT/SMOG) and rescue or concomitant therapies."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from trials.models import Study
from visits.findings.models import BleedingAssessment, RescueTherapy
from visits.models import Visit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - dt.timedelta(days=1)
TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture
def multisite(multisite_study) -> Study:
    return multisite_study


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def client(client_for, coordinator):
    return client_for(coordinator)


@pytest.fixture
def patient(multisite, make_patient):
    return make_patient(multisite, "PKUPH")


def bleeding(for_patient, **overrides) -> dict:
    body = {"patient": for_patient.pk, "assessed_at": str(YESTERDAY), "who_grade": 1}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


# --- Bleeding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domains", "smog"),
    [
        ({}, ""),
        ({"itp_bat_skin": 2, "itp_bat_mucosal": 1, "itp_bat_organ": 0}, "S2M1O0"),
        ({"itp_bat_skin": 3, "itp_bat_mucosal": 5, "itp_bat_organ": 5}, "S3M5O5"),
        ({"itp_bat_skin": 0, "itp_bat_mucosal": 0, "itp_bat_organ": 0}, "S0M0O0"),
    ],
)
def test_bleeding_assessment_with_its_smog_code(client, patient, domains, smog):
    response = client.post(
        "/api/bleeding-assessments/", bleeding(patient, **domains), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["who_grade"], body["smog"], body["subject_id"], body["version"]) == (
        1,
        smog,
        patient.subject_id,
        1,
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"who_grade": 5}, "who_grade"),
        ({"who_grade": -1}, "who_grade"),
        ({"who_grade": None}, "who_grade"),
        ({"assessed_at": str(TOMORROW)}, "assessed_at"),
        ({"assessed_at": "not a date"}, "assessed_at"),
        ({"itp_bat_skin": 4, "itp_bat_mucosal": 0, "itp_bat_organ": 0}, "itp_bat_skin"),
        ({"itp_bat_skin": 0, "itp_bat_mucosal": 6, "itp_bat_organ": 0}, "itp_bat_mucosal"),
        ({"itp_bat_skin": 0, "itp_bat_mucosal": 0, "itp_bat_organ": 6}, "itp_bat_organ"),
        ({"itp_bat_skin": 1, "itp_bat_mucosal": 1}, "itp_bat_organ"),  # all three or none
        ({"visit": 999999}, "visit"),
        ({"patient": 999999}, "patient"),
    ],
)
def test_invalid_bleeding_assessments_are_refused_naming_the_field(
    client, patient, overrides, field
):
    response = client.post(
        "/api/bleeding-assessments/", bleeding(patient, **overrides), format="json"
    )

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not BleedingAssessment.objects.exists()


def test_a_patient_of_another_site_is_unknown(client, multisite, make_patient):
    foreign = make_patient(multisite, "NAVY")

    response = client.post("/api/bleeding-assessments/", bleeding(foreign), format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "patient",
        "message": "Unknown patient.",
        "code": "invalid",
    }
    assert not BleedingAssessment.objects.exists()


def unscheduled_visit(patient) -> Visit:
    return Visit.objects.create(patient=patient, code="U1", unscheduled_number=1)


def test_an_assessment_can_belong_to_a_visit_of_the_patient(client, patient):
    visit = unscheduled_visit(patient)

    response = client.post(
        "/api/bleeding-assessments/", bleeding(patient, visit=visit.pk), format="json"
    )

    assert response.status_code == 201
    assert response.json()["visit"] == visit.pk


def test_a_visit_of_another_patient_is_refused(client, multisite, patient, make_patient):
    visit = unscheduled_visit(make_patient(multisite, "PKUPH"))

    response = client.post(
        "/api/bleeding-assessments/", bleeding(patient, visit=visit.pk), format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "visit"
    assert not BleedingAssessment.objects.exists()


def test_a_monitor_may_not_enter_findings(patient, make_user, client_for):
    monitor = client_for(make_user("mona", "monitor", "NCT03304288"))

    response = monitor.post("/api/bleeding-assessments/", bleeding(patient), format="json")

    assert response.status_code == 403
    assert not BleedingAssessment.objects.exists()


def test_a_correction_recomputes_smog_and_is_audited(client, patient):
    created = client.post(
        "/api/bleeding-assessments/",
        bleeding(patient, itp_bat_skin=1, itp_bat_mucosal=0, itp_bat_organ=0),
        format="json",
    ).json()
    url = f"/api/bleeding-assessments/{created['id']}/"

    corrected = client.patch(
        url,
        {"who_grade": 2, "itp_bat_mucosal": 2, "reason": "Epistaxis missed", "version": 1},
        format="json",
    )

    assert corrected.status_code == 200, corrected.json()
    assert (corrected.json()["smog"], corrected.json()["version"]) == ("S1M2O0", 2)
    history = client.get(f"{url}history/").json()["results"]
    assert history[-1]["reason"] == "Epistaxis missed"
    assert {"field": "smog", "old": "S1M0O0", "new": "S1M2O0"} in history[-1]["changes"]


def test_a_correction_is_checked_as_a_whole(client, patient):
    created = client.post("/api/bleeding-assessments/", bleeding(patient), format="json").json()

    response = client.patch(
        f"/api/bleeding-assessments/{created['id']}/",
        {"itp_bat_skin": 1, "reason": "Skin graded", "version": 1},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "itp_bat_mucosal"
    assert BleedingAssessment.objects.get().version == 1


def test_a_stale_version_is_a_conflict_and_changes_nothing(client, patient):
    created = client.post("/api/bleeding-assessments/", bleeding(patient), format="json").json()
    url = f"/api/bleeding-assessments/{created['id']}/"
    client.patch(url, {"who_grade": 2, "reason": "first", "version": 1}, format="json")

    stale = client.patch(url, {"who_grade": 0, "reason": "second", "version": 1}, format="json")

    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    assert BleedingAssessment.objects.get().who_grade == 2


def test_the_etag_carries_the_version_for_the_next_if_match(client, patient):
    created = client.post("/api/bleeding-assessments/", bleeding(patient), format="json")
    url = f"/api/bleeding-assessments/{created.json()['id']}/"
    etag = client.get(url)["ETag"]

    changed = client.patch(url, {"who_grade": 2, "reason": "r"}, format="json", HTTP_IF_MATCH=etag)
    stale = client.patch(url, {"who_grade": 3, "reason": "r"}, format="json", HTTP_IF_MATCH=etag)

    assert (created["ETag"], etag, changed["ETag"]) == ('"1"', '"1"', '"2"')
    assert stale.status_code == 409
    assert BleedingAssessment.objects.get().who_grade == 2


def test_void_keeps_the_assessment_in_history(client, patient):
    created = client.post("/api/bleeding-assessments/", bleeding(patient), format="json").json()
    url = f"/api/bleeding-assessments/{created['id']}/"

    voided = client.delete(url, {"reason": "Wrong patient", "version": 1}, format="json")
    edit = client.patch(url, {"who_grade": 2, "reason": "x", "version": 2}, format="json")

    assert voided.status_code == 200
    assert voided.json()["is_voided"] is True
    assert edit.status_code == 400  # a voided record is not edited
    history = client.get(f"{url}history/").json()["results"]
    assert [entry["type"] for entry in history] == ["created", "voided"]
    assert (
        client.get(f"/api/bleeding-assessments/?patient={patient.pk}&is_voided=false").json()[
            "count"
        ]
        == 0
    )


def test_lists_are_scoped_and_filtered_by_patient(
    client, multisite, patient, make_patient, superuser, client_for
):
    other = make_patient(multisite, "PKUPH")
    foreign = make_patient(multisite, "NAVY")
    admin = client_for(superuser)
    for someone in (patient, other, foreign):
        admin.post("/api/bleeding-assessments/", bleeding(someone), format="json")

    assert client.get("/api/bleeding-assessments/").json()["count"] == 2
    listed = client.get(f"/api/bleeding-assessments/?patient={patient.pk}").json()["results"]
    assert [row["patient"] for row in listed] == [patient.pk]
    foreign_id = BleedingAssessment.objects.get(patient=foreign).pk
    assert client.get(f"/api/bleeding-assessments/{foreign_id}/").status_code == 404


# --- Rescue and concomitant therapy -----------------------------------------------------------


def rescue(for_patient, **overrides) -> dict:
    body = {
        "patient": for_patient.pk,
        "started_at": str(YESTERDAY - dt.timedelta(days=3)),
        "therapy": "IVIG 1 g/kg",
        "itp_directed": True,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_rescue_therapy_is_recorded(client, patient):
    response = client.post(
        "/api/rescue-therapies/", rescue(patient, stopped_at=str(YESTERDAY)), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["therapy"], body["itp_directed"], body["kind"], body["stopped_at"]) == (
        "IVIG 1 g/kg",
        True,
        "rescue",
        str(YESTERDAY),
    )


def test_concomitant_therapy_is_recorded(client, patient):
    response = client.post(
        "/api/rescue-therapies/",
        rescue(
            patient,
            therapy="Omeprazole 20 mg",
            itp_directed=False,
            kind="concomitant",
            indication="Gastric protection",
        ),
        format="json",
    )

    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["indication"]) == (
        "concomitant",
        "Gastric protection",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"stopped_at": str(YESTERDAY - dt.timedelta(days=4))}, "stopped_at"),  # before start
        ({"started_at": str(TOMORROW)}, "started_at"),
        ({"stopped_at": str(TOMORROW)}, "stopped_at"),
        ({"started_at": None}, "started_at"),
        ({"therapy": "   "}, "therapy"),
        ({"therapy": None}, "therapy"),
        ({"itp_directed": None}, "itp_directed"),
        ({"kind": "prophylactic"}, "kind"),
        ({"patient": 999999}, "patient"),
    ],
)
def test_invalid_therapies_are_refused_naming_the_field(client, patient, overrides, field):
    response = client.post("/api/rescue-therapies/", rescue(patient, **overrides), format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not RescueTherapy.objects.exists()


def test_stopping_a_therapy_is_a_versioned_update(client, patient):
    created = client.post("/api/rescue-therapies/", rescue(patient), format="json").json()
    url = f"/api/rescue-therapies/{created['id']}/"

    early = client.patch(
        url,
        {"stopped_at": str(YESTERDAY - dt.timedelta(days=10)), "reason": "Stopped", "version": 1},
        format="json",
    )
    stopped = client.patch(
        url, {"stopped_at": str(YESTERDAY), "reason": "Stopped"}, format="json", HTTP_IF_MATCH='"1"'
    )
    stale = client.patch(
        url, {"therapy": "IVIG", "reason": "Name"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert early.status_code == 400
    assert early.json()["errors"][0]["field"] == "stopped_at"
    assert (stopped.status_code, stopped.json()["version"]) == (200, 2)
    assert stale.status_code == 409
    therapy = RescueTherapy.objects.get()
    assert (therapy.stopped_at, therapy.therapy) == (YESTERDAY, "IVIG 1 g/kg")


def test_the_list_reads_with_a_fixed_number_of_queries(
    client, patient, django_assert_max_num_queries
):
    for grade in range(5):
        client.post("/api/bleeding-assessments/", bleeding(patient, who_grade=grade), format="json")

    # token with user, grants, their sites, the patient filter's choice, count, page
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/bleeding-assessments/?patient={patient.pk}")

    assert [row["who_grade"] for row in response.json()["results"]] == [0, 1, 2, 3, 4]
