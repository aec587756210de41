"""Issue 14: freeze and lock. A data manager freezes a visit or a patient and locks a patient or
the whole study, with a reason; every write to covered data — API, admin, bulk import — is a 409
naming the lock until it is released with a reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from visits.labs.models import LabResult
from visits.review.models import DataLock

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(multisite_study, make_patient, place_on_arm):
    return place_on_arm(make_patient(multisite_study, "PKUPH"), "RTX", day1=dt.date(2025, 1, 10))


@pytest.fixture
def people(make_user, client_for):
    users = {
        "dm": make_user("dm", "data_manager", "NCT03304288", []),  # all sites
        "site_dm": make_user("sdm", "data_manager", "NCT03304288", ["PKUPH"]),
        "coordinator": make_user("co", "coordinator", "NCT03304288", ["PKUPH"]),
        "monitor": make_user("mo", "monitor", "NCT03304288", ["PKUPH"]),
        "other_site_dm": make_user("odm", "data_manager", "NCT03304288", ["BJH"]),
    }
    return {role: client_for(user) for role, user in users.items()}


def lab_body(patient, value="40") -> dict:
    return {
        "patient": patient.pk,
        "collected_at": "2025-02-01T08:00:00Z",
        "test_code": "PLAT",
        "value": value,
        "unit": "10^9/L",
    }


def test_a_locked_patient_refuses_api_writes_with_409_naming_the_lock(patient, people):
    coordinator = people["coordinator"]
    stored = coordinator.post("/api/lab-results/", lab_body(patient), format="json").json()
    locked = people["site_dm"].post(
        f"/api/patients/{patient.pk}/lock/", {"reason": "Ready for analysis"}, format="json"
    )
    assert locked.status_code == 201
    lock = locked.json()
    assert {k: lock[k] for k in ("kind", "scope", "patient", "is_active", "placed_by")} == {
        "kind": "lock",
        "scope": "patient",
        "patient": patient.pk,
        "is_active": True,
        "placed_by": "sdm",
    }
    created = coordinator.post("/api/lab-results/", lab_body(patient, "50"), format="json")
    changed = coordinator.patch(
        f"/api/lab-results/{stored['id']}/",
        {"value": "41", "reason": "typo", "version": stored["version"]},
        format="json",
    )
    voided = coordinator.delete(
        f"/api/lab-results/{stored['id']}/?reason=wrong&version={stored['version']}"
    )
    for response in (created, changed, voided):
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "locked"
        assert f"lock {lock['id']} of patient {patient.pk}" in body["detail"]
        assert "Ready for analysis" in body["detail"]
    assert [str(r.value) for r in LabResult.objects.filter(patient=patient)] == ["40.0000"]
    assert LabResult.objects.get(pk=stored["id"]).is_voided is False

    released = people["site_dm"].post(
        f"/api/patients/{patient.pk}/unlock/", {"reason": "Query to resolve"}, format="json"
    )
    assert released.status_code == 200
    assert (released.json()["is_active"], released.json()["release_reason"]) == (
        False,
        "Query to resolve",
    )
    again = coordinator.post("/api/lab-results/", lab_body(patient, "50"), format="json")
    assert again.status_code == 201
    history = people["dm"].get(f"/api/locks/{lock['id']}/").json()
    assert history["released_by"] == "sdm"


def test_a_frozen_visit_refuses_its_records_but_not_the_patients_other_data(patient, people):
    from visits.services import unscheduled_visit_create

    admin = get_user_model().objects.get(username="fixture-admin")
    visit = unscheduled_visit_create(actor=admin, patient=patient, actual_date=dt.date(2025, 2, 1))
    frozen = people["dm"].post(
        f"/api/visits/{visit.pk}/freeze/", {"reason": "Cleaning V1"}, format="json"
    )
    assert frozen.status_code == 201
    in_visit = people["coordinator"].post(
        "/api/lab-results/", {**lab_body(patient), "visit": visit.pk}, format="json"
    )
    assert (in_visit.status_code, in_visit.json()["code"]) == (409, "locked")
    assert "frozen" in in_visit.json()["detail"]
    outside = people["coordinator"].post("/api/lab-results/", lab_body(patient), format="json")
    assert outside.status_code == 201
    assert LabResult.objects.filter(patient=patient, visit=visit).count() == 0


def test_a_study_lock_covers_every_patient_and_needs_an_all_sites_grant(
    patient, people, multisite_study
):
    partial = people["site_dm"].post(
        f"/api/studies/{multisite_study.pk}/lock/", {"reason": "DB lock"}, format="json"
    )
    assert partial.status_code == 403
    assert DataLock.objects.count() == 0
    locked = people["dm"].post(
        f"/api/studies/{multisite_study.pk}/lock/", {"reason": "DB lock"}, format="json"
    )
    assert locked.status_code == 201
    refused = people["coordinator"].post("/api/lab-results/", lab_body(patient), format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "locked")
    assert "the whole study" in refused.json()["detail"]
    screened = people["coordinator"].post(
        "/api/patients/",
        {
            "study": multisite_study.pk,
            "site": patient.site_id,
            "sex": "M",
            "birth_date": "1970-01-01",
            "height_cm": "170",
            "weight_kg": "70",
        },
        format="json",
    )
    assert screened.status_code == 409
    twice = people["dm"].post(
        f"/api/studies/{multisite_study.pk}/lock/", {"reason": "again"}, format="json"
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "conflict")


def test_the_guard_refuses_writes_outside_the_api_too(patient, people, record_lab):
    """A service call (as the admin, bulk import and commands make) gets the same refusal."""
    from visits.review.locks import DataLocked

    people["dm"].post(f"/api/patients/{patient.pk}/freeze/", {"reason": "SDV"}, format="json")
    with pytest.raises(DataLocked, match="frozen"):
        record_lab(patient, "PLAT", "33", "10^9/L")
    assert LabResult.objects.filter(patient=patient).count() == 0


@pytest.mark.parametrize(
    ("role", "path", "body", "expected", "field"),
    [
        ("coordinator", "patients/{p}/lock/", {"reason": "x"}, 403, None),
        ("monitor", "patients/{p}/freeze/", {"reason": "x"}, 403, None),
        ("other_site_dm", "patients/{p}/lock/", {"reason": "x"}, 404, None),
        ("dm", "patients/{p}/lock/", {}, 400, "reason"),
        ("dm", "patients/{p}/lock/", {"reason": "  "}, 400, "reason"),
        ("dm", "patients/{p}/unlock/", {"reason": "not locked"}, 409, None),
        ("dm", "patients/999999/lock/", {"reason": "x"}, 404, None),
    ],
)
def test_bad_input_and_wrong_roles(patient, people, role, path, body, expected, field):
    response = people[role].post("/api/" + path.format(p=patient.pk), body, format="json")
    assert response.status_code == expected
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert DataLock.objects.filter(is_active=True).count() == 0


def test_the_admin_refuses_a_record_of_locked_data_on_its_form(patient, people, make_user):
    from django.test import Client

    people["dm"].post(f"/api/patients/{patient.pk}/lock/", {"reason": "Analysis"}, format="json")
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="co"))
    form = {
        "patient": patient.pk,
        "visit": "",
        "collected_at_0": "2025-03-04",
        "collected_at_1": "08:30:00",
        "test_code": "HGB",
        "laboratory": "main",
        "value": "9.5",
        "unit": "g/dL",
        "lln": "12",
        "uln": "16",
        "source_accession": "",
    }
    response = browser.post("/admin/labs/labresult/add/", form)
    assert response.status_code == 200  # the form again, with the refusal
    errors = response.context["adminform"].form.non_field_errors()
    assert len(errors) == 1
    assert errors[0].startswith("The data are locked: lock ")
    assert LabResult.objects.filter(patient=patient).count() == 0
