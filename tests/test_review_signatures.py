"""Issue 14: investigator e-signatures (Part 11 §11.50, §11.70, §11.200) — the password again,
the meaning, printed name and UTC time, bound to the signed records; broken by a later change;
a wrong password is a 403 counted towards the lockout; only the site's investigators sign."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt

from visits.review.models import Signature

pytestmark = pytest.mark.django_db
PASSWORD = "sign-pass-2026"


@pytest.fixture
def patient(multisite_study, make_patient, record_lab):
    patient = make_patient(multisite_study, "PKUPH")
    record_lab(patient, "PLAT", "25", "10^9/L")
    return patient


@pytest.fixture
def investigator(make_user, client_for):
    user = make_user("ivy", "investigator", "NCT03304288", ["PKUPH"])
    user.first_name, user.last_name = "Ivy", "Wang"
    user.set_password(PASSWORD)
    user.save()
    return client_for(user)


def sign(client, patient, **overrides):
    body = {"password": PASSWORD, "meaning": "I reviewed and approve these data"} | overrides
    return client.post(f"/api/patients/{patient.pk}/signatures/", body, format="json")


def test_a_signature_names_the_signer_time_and_meaning_and_breaks_on_a_change(
    patient, investigator, make_user, client_for
):
    response = sign(investigator, patient)
    assert response.status_code == 201
    signed = response.json()
    assert {k: signed[k] for k in ("printed_name", "meaning", "signer", "valid", "changes")} == {
        "printed_name": "Ivy Wang",
        "meaning": "I reviewed and approve these data",
        "signer": "ivy",
        "valid": True,
        "changes": [],
    }
    assert signed["signed_at"].endswith("Z")
    assert signed["record_count"] == 2  # the patient and the lab result
    assert len(signed["records_hash"]) == 64

    coordinator = client_for(make_user("co", "coordinator", "NCT03304288", ["PKUPH"]))
    lab = coordinator.get("/api/lab-results/", {"patient": patient.pk}).json()["results"][0]
    coordinator.patch(
        f"/api/lab-results/{lab['id']}/",
        {"value": "26", "reason": "typo", "version": lab["version"]},
        format="json",
    )
    listed = investigator.get(f"/api/patients/{patient.pk}/signatures/").json()
    assert [(s["id"], s["valid"]) for s in listed] == [(signed["id"], False)]
    assert listed[0]["changes"] == [
        {
            "resource": "lab-results",
            "record_id": lab["id"],
            "change": "changed",
            "signed_version": 1,
            "current_version": 2,
        }
    ]
    again = sign(investigator, patient, meaning="Re-signed after the correction")
    assert again.status_code == 201
    listed = investigator.get(f"/api/patients/{patient.pk}/signatures/").json()
    assert [s["valid"] for s in listed] == [True, False]


def test_a_visit_signature_binds_only_that_visits_records(patient, investigator, place_on_arm):
    from django.contrib.auth import get_user_model

    from visits.services import unscheduled_visit_create

    admin = get_user_model().objects.get(username="fixture-admin")
    place_on_arm(patient, "RTX", day1=dt.date(2025, 1, 10))
    visit = unscheduled_visit_create(actor=admin, patient=patient, actual_date=dt.date(2025, 2, 1))
    response = sign(investigator, patient, visit=visit.pk, meaning="Visit U1 reviewed")
    assert response.status_code == 201
    assert (response.json()["visit_code"], response.json()["record_count"]) == ("U1", 1)


def test_a_wrong_password_is_403_counted_towards_the_lockout(patient, investigator):
    wrong = sign(investigator, patient, password="not-my-password")
    assert wrong.status_code == 403
    assert wrong.json()["errors"] == [
        {
            "field": "password",
            "message": "The password is not correct.",
            "code": "permission_denied",
        }
    ]
    assert AccessAttempt.objects.get(username="ivy").failures_since_start == 1
    for _ in range(4):
        sign(investigator, patient, password="not-my-password")
    locked = sign(investigator, patient)  # the right password, but locked out
    assert locked.status_code == 429
    assert Signature.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "sites", "expected"),
    [
        ("coordinator", ["PKUPH"], 403),
        ("monitor", ["PKUPH"], 403),
        ("data_manager", [], 403),
        ("investigator", ["BJH"], 404),  # another site's investigator does not see the patient
    ],
)
def test_only_the_sites_investigators_sign(patient, make_user, client_for, role, sites, expected):
    user = make_user("someone", role, "NCT03304288", sites)
    user.set_password(PASSWORD)
    user.save()
    response = sign(client_for(user), patient)
    assert response.status_code == expected
    assert Signature.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"meaning": ""}, "meaning"), ({"meaning": "   "}, "meaning"), ({"visit": 999999}, "visit")],
)
def test_bad_input_names_the_field(patient, investigator, overrides, field):
    response = sign(investigator, patient, **overrides)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert Signature.objects.count() == 0
