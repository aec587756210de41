"""Adverse events, drug assessments and the CTCAE dictionary in the admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from ecrf.audit import save_audited
from visits.safety.models import AdverseEvent, AdverseEventDrugAssessment, CtcaeTerm

pytestmark = pytest.mark.django_db


@pytest.fixture
def investigator(make_user):
    return make_user("ines", "investigator", "NCT05471050")


@pytest.fixture
def browser(investigator):
    client = Client()
    client.force_login(investigator)
    return client


@pytest.fixture
def patient(study, make_patient, investigator):
    patient = make_patient(study, "PKUPH", actor=investigator)
    patient.arm = study.arms.get(code="TAC_DAN")
    patient.day1 = dt.date(2025, 1, 20)
    patient.status = "randomized"
    patient.version += 1
    return save_audited(patient, actor=None, reason="test: randomized")


def event_form(patient, **overrides):
    values = {
        "patient": patient.pk,
        "visit": "",
        "term": CtcaeTerm.objects.get(term="Bruising").pk,
        "verbatim": "Bruises on both shins",
        "onset_date": "2025-02-10",
        "resolution_date": "",
        "grade": "1",
        "outcome": "not_recovered",
        "site_aware_at_0": "",
        "site_aware_at_1": "",
        "lab_result": "",
        "reason_for_change": "",
        # The read-only inline's management form.
        "drug_assessments-TOTAL_FORMS": "0",
        "drug_assessments-INITIAL_FORMS": "0",
    }
    values.update(overrides)
    return values


def form_errors(response) -> dict:
    form = response.context["adminform"].form
    return {name: list(errors) for name, errors in form.errors.items()}


def test_event_entered_in_the_admin_is_checked_and_audited(browser, patient):
    response = browser.post("/admin/safety/adverseevent/add/", event_form(patient))
    assert response.status_code == 302, form_errors(response)
    event = AdverseEvent.objects.get()
    assert (event.grade, event.history.get().history_user.username) == (1, "ines")


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"grade": "3"}, "grade"),
        ({"resolution_date": "2025-02-01", "outcome": "recovered"}, "resolution_date"),
        ({"is_serious": "on"}, "is_serious"),
        ({"is_serious": "on", "serious_hospitalisation": "on"}, "site_aware_at"),
    ],
)
def test_admin_refuses_what_the_api_refuses(browser, patient, overrides, field):
    response = browser.post("/admin/safety/adverseevent/add/", event_form(patient, **overrides))
    assert response.status_code == 200
    errors = form_errors(response)
    assert field in errors, errors
    assert not AdverseEvent.objects.exists()


def test_grade_change_in_the_admin_needs_a_reason_and_is_audited(browser, patient):
    browser.post("/admin/safety/adverseevent/add/", event_form(patient))
    event = AdverseEvent.objects.get()
    change = event_form(patient, grade="2", expected_version="1")
    del change["patient"]
    url = f"/admin/safety/adverseevent/{event.pk}/change/"
    assert "reason_for_change" in form_errors(browser.post(url, change))
    response = browser.post(url, {**change, "reason_for_change": "Now generalized"})
    assert response.status_code == 302, form_errors(response)
    event.refresh_from_db()
    assert (event.grade, event.version) == (2, 2)
    assert event.history.first().history_change_reason == "Now generalized"


def test_drug_assessment_in_the_admin_is_limited_to_study_drugs(browser, patient):
    browser.post("/admin/safety/adverseevent/add/", event_form(patient))
    event = AdverseEvent.objects.get()
    form = {
        "adverse_event": event.pk,
        "drug": "rituximab",
        "causality": "possible",
        "action_taken": "dose_not_changed",
        "reason_for_change": "",
    }
    # The drug is a choice among the study drugs of the event's patient's arm.
    page = browser.get(f"/admin/safety/adverseeventdrugassessment/add/?adverse_event={event.pk}")
    offered = page.context["adminform"].form.fields["drug"].choices
    assert offered == [("", "---------"), ("danazol", "danazol"), ("tacrolimus", "tacrolimus")]
    refused = browser.post("/admin/safety/adverseeventdrugassessment/add/", form)
    assert "drug" in form_errors(refused)
    accepted = browser.post(
        "/admin/safety/adverseeventdrugassessment/add/", {**form, "drug": "tacrolimus"}
    )
    assert accepted.status_code == 302, form_errors(accepted)
    assert AdverseEventDrugAssessment.objects.get().drug == "tacrolimus"


def test_dictionary_is_readable_but_not_editable_in_the_admin(browser):
    term = CtcaeTerm.objects.get(term="Bruising")
    assert browser.get("/admin/safety/ctcaeterm/?q=bruis").status_code == 200
    assert browser.get(f"/admin/safety/ctcaeterm/{term.pk}/change/").status_code == 200
    response = browser.post(f"/admin/safety/ctcaeterm/{term.pk}/change/", {"term": "Bruise"})
    assert response.status_code == 403
    term.refresh_from_db()
    assert term.term == "Bruising"
