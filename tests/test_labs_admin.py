"""Lab results and reference ranges in the admin: same checks and audit trail as the API."""

from __future__ import annotations

import pytest
from django.test import Client

from visits.labs.models import LabResult, ReferenceRange

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def browser(coordinator):
    client = Client()
    client.force_login(coordinator)
    return client


@pytest.fixture
def patient(multisite_study, make_patient, coordinator):
    return make_patient(multisite_study, "PKUPH", actor=coordinator)


def result_form(patient, **overrides):
    values = {
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
        "reason_for_change": "",
    }
    values.update(overrides)
    return values


def form_errors(response) -> dict:
    form = response.context["adminform"].form
    return {name: list(errors) for name, errors in form.errors.items()}


def test_result_entered_in_the_admin_is_derived_and_audited(browser, patient):
    response = browser.post("/admin/labs/labresult/add/", result_form(patient))
    assert response.status_code == 302, form_errors(response)
    result = LabResult.objects.get()
    assert (result.value_std, result.indicator, result.ctcae_term, result.ctcae_grade) == (
        95, "LOW", "Anemia", 2
    )  # fmt: skip
    entry = result.history.get()
    assert (entry.history_user.username, entry.history_change_reason) == (
        "cora", "Entered in the admin"
    )  # fmt: skip


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"unit": "furlongs"}, "unit"),
        ({"value": "-1"}, "value"),
        ({"test_code": "XYZ"}, "test_code"),
        ({"lln": "20"}, "lln"),
        ({"collected_at_0": "2999-01-01"}, "collected_at"),
    ],
)
def test_admin_refuses_what_the_api_refuses(browser, patient, overrides, field):
    response = browser.post("/admin/labs/labresult/add/", result_form(patient, **overrides))
    assert response.status_code == 200
    assert field in form_errors(response)
    assert not LabResult.objects.exists()


def test_admin_correction_needs_a_reason_and_rederives(browser, patient):
    browser.post("/admin/labs/labresult/add/", result_form(patient))
    result = LabResult.objects.get()
    url = f"/admin/labs/labresult/{result.pk}/change/"
    change = result_form(patient, value="7.5", expected_version="1")
    del change["patient"]
    refused = browser.post(url, change)
    assert "reason_for_change" in form_errors(refused)
    accepted = browser.post(url, {**change, "reason_for_change": "Re-read the report"})
    assert accepted.status_code == 302, form_errors(accepted)
    result.refresh_from_db()
    assert (result.value_std, result.ctcae_grade, result.version) == (75, 3, 2)
    assert result.history.first().history_change_reason == "Re-read the report"


def test_admin_offers_only_patients_of_the_users_sites(
    browser, patient, multisite_study, make_patient
):
    navy_patient = make_patient(multisite_study, "NAVY")
    page = browser.get("/admin/labs/labresult/add/")
    choices = {
        str(c[0].value) for c in page.context["adminform"].form.fields["patient"].choices if c[0]
    }
    assert str(patient.pk) in choices
    assert str(navy_patient.pk) not in choices
    response = browser.post("/admin/labs/labresult/add/", result_form(navy_patient))
    assert "patient" in form_errors(response)
    assert not LabResult.objects.exists()


def test_reference_range_in_the_admin(browser, multisite_study):
    pkuph = multisite_study.sites.get(code="PKUPH")
    form = {
        "site": pkuph.pk,
        "laboratory": "main",
        "test_code": "HGB",
        "sex": "",
        "age_min_years": "0",
        "age_max_years": "150",
        "unit": "g/dL",
        "lln": "12",
        "uln": "16",
        "effective_from": "2024-01-01",
        "effective_to": "",
        "reason_for_change": "",
    }
    assert browser.post("/admin/labs/referencerange/add/", form).status_code == 302
    overlapping = browser.post("/admin/labs/referencerange/add/", form)
    assert "effective_from" in form_errors(overlapping)
    bad = browser.post("/admin/labs/referencerange/add/", {**form, "lln": "20", "laboratory": "b"})
    assert "lln" in form_errors(bad)
    assert ReferenceRange.objects.get().history.get().history_change_reason == (
        "Reference range entered"
    )
