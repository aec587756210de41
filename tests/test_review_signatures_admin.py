"""Issue 14: signing from the admin — the investigator of the patient's site signs the casebook
from its page (password again, meaning), through the API's service: a wrong password counts
towards the lockout; the casebook shows each signature, valid or broken with what changed."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client

from visits.review.models import Signature

pytestmark = pytest.mark.django_db
PASSWORD = "sign-pass-2026"


@pytest.fixture
def patient(multisite_study, make_patient, record_lab):
    patient = make_patient(multisite_study, "PKUPH")
    record_lab(patient, "PLAT", "25", "10^9/L")
    return patient


def person(make_user, username, role, sites):
    user = make_user(username, role, "NCT03304288", sites)
    user.first_name, user.last_name = "Ivy", "Wang"
    user.set_password(PASSWORD)
    user.save()
    browser = Client()
    browser.force_login(user)
    return browser


def sign_url(patient) -> str:
    return f"/admin/review/signature/sign/{patient.pk}/"


def casebook(browser, patient) -> str:
    return browser.get(f"/admin/patients/patient/{patient.pk}/casebook/").content.decode()


def test_the_investigator_signs_from_the_casebook_which_shows_it_valid_then_broken(
    patient, make_user, client_for
):
    investigator = person(make_user, "ivy", "investigator", ["PKUPH"])
    page = casebook(investigator, patient)
    assert f'href="{sign_url(patient)}"' in page
    assert "Not signed yet." in page
    signed = investigator.post(
        sign_url(patient), {"password": PASSWORD, "meaning": "I reviewed and approve these data"}
    )
    assert signed.status_code == 302
    assert signed["Location"] == f"/admin/patients/patient/{patient.pk}/casebook/"
    signature = Signature.objects.get()
    assert (signature.printed_name, signature.meaning, signature.visit_id) == (
        "Ivy Wang",
        "I reviewed and approve these data",
        None,
    )
    assert len(signature.signed_records) == 2  # the patient and the lab result
    page = casebook(investigator, patient)
    stamp = signature.signed_at.strftime("%Y-%m-%d %H:%M:%S") + "Z"
    assert (
        f"<td>Ivy Wang</td><td>{stamp}</td><td>I reviewed and approve these data</td>"
        "<td>casebook</td>" in page
    )
    assert "<td>valid</td>" in page

    coordinator = client_for(make_user("co", "coordinator", "NCT03304288", ["PKUPH"]))
    lab = coordinator.get("/api/lab-results/", {"patient": patient.pk}).json()["results"][0]
    coordinator.patch(
        f"/api/lab-results/{lab['id']}/",
        {"value": "26", "reason": "typo", "version": lab["version"]},
        format="json",
    )
    page = casebook(investigator, patient)
    assert f"broken: lab-results {lab['id']} changed (version 1 → 2)" in page


def test_a_wrong_password_is_refused_on_the_form_and_counted_towards_the_lockout(
    patient, make_user
):
    investigator = person(make_user, "ivy", "investigator", ["PKUPH"])
    wrong = investigator.post(sign_url(patient), {"password": "nope", "meaning": "Approved"})
    assert wrong.status_code == 200
    assert "The password is not correct." in wrong.content.decode()
    assert AccessAttempt.objects.get(username="ivy").failures_since_start == 1
    for _ in range(4):
        investigator.post(sign_url(patient), {"password": "nope", "meaning": "Approved"})
    locked = investigator.post(sign_url(patient), {"password": PASSWORD, "meaning": "Approved"})
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
def test_only_the_sites_investigators_sign_from_the_admin(
    patient, make_user, role, sites, expected
):
    browser = person(make_user, "someone", role, sites)
    assert browser.get(sign_url(patient)).status_code == expected
    response = browser.post(sign_url(patient), {"password": PASSWORD, "meaning": "Approved"})
    assert response.status_code == expected
    assert Signature.objects.count() == 0
    if expected == 403:
        assert sign_url(patient) not in casebook(browser, patient)


@pytest.mark.parametrize(
    ("body", "field_error"),
    [
        ({"password": PASSWORD, "meaning": ""}, "meaning"),
        ({"password": "", "meaning": "Approved"}, "password"),
        ({"password": PASSWORD, "meaning": "Approved", "visit": "999999"}, "visit"),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_is_signed(
    patient, make_user, body, field_error
):
    investigator = person(make_user, "ivy", "investigator", ["PKUPH"])
    response = investigator.post(sign_url(patient), body)
    assert response.status_code == 200
    assert field_error in response.context["form"].errors
    assert Signature.objects.count() == 0
