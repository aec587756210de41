"""Adding and correcting patients in the admin, and History's "Revert" (issue 10)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from patients.models import Patient
from visits.models import Visit

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/patients/patient/add/"


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def inline_management(page) -> dict:
    """The inline formsets' management fields, as the browser posts them with the page."""
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {
            management.add_prefix(name): management[name].value() for name in management.fields
        }
    return data


def new_patient_form(study, site) -> dict:
    return {
        "study": study.pk,
        "site": site.pk,
        "sex": "F",
        "birth_date": "1980-05-17",
        "height_cm": "165",
        "weight_kg": "60",
        "screened_on": "2025-01-06",
    }


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.mark.parametrize("who", ["coordinator", "superuser"])
def test_adding_a_patient_in_the_admin_screens_them(who, request, multisite_study):
    user = request.getfixturevalue(who)
    client = admin_client(user)
    site = multisite_study.sites.get(code="PKUPH")
    page = client.get(ADD_URL)
    assert page.status_code == 200
    assert "reason_for_change" not in page.context["adminform"].form.fields
    response = client.post(ADD_URL, new_patient_form(multisite_study, site))
    assert response.status_code == 302, response.context["adminform"].form.errors
    patient = Patient.objects.get(site=site)
    assert (patient.status, patient.weight_kg, patient.version) == (
        "screening", Decimal("60.0"), 1
    )  # fmt: skip
    assert patient.history.get().history_user == user


def test_correcting_the_weight_with_a_reason(coordinator, multisite_study, make_patient):
    patient = make_patient(multisite_study, "PKUPH")
    url = f"/admin/patients/patient/{patient.pk}/change/"
    client = admin_client(coordinator)
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in ("sex", "birth_date", "height_cm")}
    data |= {"weight_kg": "62.5", "reason_for_change": "Scale misread", "expected_version": 1}
    response = client.post(url, data | inline_management(client.get(url)))
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.weight_kg, patient.version) == (Decimal("62.5"), 2)
    latest = patient.history.order_by("-history_id").first()
    assert (latest.history_change_reason, latest.history_user) == ("Scale misread", coordinator)


def test_correction_without_a_reason_says_so(coordinator, multisite_study, make_patient):
    patient = make_patient(multisite_study, "PKUPH")
    url = f"/admin/patients/patient/{patient.pk}/change/"
    data = {"sex": "F", "birth_date": "1980-05-17", "height_cm": "165", "weight_kg": "61"}
    response = admin_client(coordinator).post(url, data | {"expected_version": 1})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["reason_for_change"] == ["Give a reason for this change."]
    patient.refresh_from_db()
    assert patient.weight_kg == Decimal("60.0")


def test_history_revert_restores_the_old_value_through_the_service(
    coordinator, multisite_study, make_patient
):
    patient = make_patient(multisite_study, "PKUPH")
    client = admin_client(coordinator)
    change = f"/admin/patients/patient/{patient.pk}/change/"
    data = {"sex": "F", "birth_date": "1980-05-17", "height_cm": "165"}
    inlines = inline_management(client.get(change))
    data |= inlines
    client.post(
        change, data | {"weight_kg": "70", "reason_for_change": "typo", "expected_version": 1}
    )
    first = patient.history.order_by("history_id").first()
    revert = f"/admin/patients/patient/{patient.pk}/history/{first.history_id}/"
    form = client.get(revert).context["adminform"].form
    assert form["expected_version"].value() == 2  # the stored version, not the old one's
    assert form["weight_kg"].value() == Decimal("60.0")
    response = client.post(
        revert,
        data | {"weight_kg": "60.0", "reason_for_change": "Back to the screening weight",
                "expected_version": 2},
    )  # fmt: skip
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.weight_kg, patient.version) == (Decimal("60.0"), 3)
    latest = patient.history.order_by("-history_id").first()
    assert latest.history_change_reason == "Back to the screening weight"
    # Without a reason the revert is refused like any other change.
    refused = client.post(revert, data | {"weight_kg": "60.0", "expected_version": 3})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["reason_for_change"]


def test_unscheduled_visit_page_is_linked_from_the_patient_and_records_the_visit(
    coordinator, multisite_study, make_patient, place_on_arm
):
    # Served by visits' admin (the arrows point one way), reached from the patient's page.
    patient = make_patient(multisite_study, "PKUPH")
    arm = multisite_study.arms.order_by("code").first()
    place_on_arm(patient, arm.code, day1=dt.date(2025, 1, 10))
    client = admin_client(coordinator)
    url = f"/admin/patients/patient/{patient.pk}/unscheduled-visit/"

    change_page = client.get(f"/admin/patients/patient/{patient.pk}/change/")
    refused = client.post(url, {"actual_date": "2025-01-01", "notes": ""})
    response = client.post(url, {"actual_date": "2025-02-03", "notes": "Bleeding gums"})

    assert f'href="{url}"' in change_page.text
    assert refused.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == f"/admin/patients/patient/{patient.pk}/change/"
    visit = Visit.objects.get(patient=patient, unscheduled_number__isnull=False)
    assert (visit.code, visit.actual_date, visit.notes, visit.unscheduled_number) == (
        "U1",
        dt.date(2025, 2, 3),
        "Bleeding gums",
        1,
    )
    assert visit.history.get().history_user == coordinator
