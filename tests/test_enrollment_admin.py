"""The enrollment workflow in the admin: the same services and rules as the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from patients.models import Consent, EligibilityAssessment
from trials.randomization.models import AllocationListView, AllocationSlot
from visits.models import Visit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def patient(multisite_study, make_patient):
    return make_patient(multisite_study, "PKUPH")


def page(name, patient):
    return f"/admin/patients/patient/{patient.pk}/{name}/"


def test_patient_page_links_the_workflow(coordinator, patient):
    response = admin_client(coordinator).get(f"/admin/patients/patient/{patient.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("consent", "eligibility", "status"):
        assert page(name, patient) in html
    assert page("allocate", patient) not in html  # only once eligible


def test_consent_is_recorded_from_the_admin(coordinator, patient):
    client = admin_client(coordinator)
    assert client.get(page("consent", patient)).status_code == 200
    response = client.post(
        page("consent", patient), {"consented_at": "2025-01-03", "consent_version": "2.0"}
    )
    assert response.status_code == 302
    consent = Consent.objects.get(patient=patient)
    assert (consent.consent_version, consent.history.get().history_user) == ("2.0", coordinator)


def test_a_future_consent_date_is_shown_on_its_field_and_nothing_stored(coordinator, patient):
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    response = admin_client(coordinator).post(
        page("consent", patient), {"consented_at": tomorrow, "consent_version": "2.0"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"consented_at": ["Must not be in the future."]}
    assert not Consent.objects.exists()


def test_coordinator_evaluates_but_cannot_answer_investigator_items(coordinator, patient):
    client = admin_client(coordinator)
    form = client.get(page("eligibility", patient)).context["form"]
    assert form.fields["answers__itp_confirmed"].disabled is True
    # A disabled field ignores what is posted: the answer is not taken.
    response = client.post(page("eligibility", patient), {"answers__itp_confirmed": "met"})
    assert response.status_code == 302
    assessment = EligibilityAssessment.objects.get(patient=patient)
    assert (assessment.status, assessment.answers) == ("incomplete", {})


def test_investigator_answers_and_makes_the_patient_eligible(
    make_user, patient, record_lab, record_ecog
):
    from tests.conftest import NORMAL_SCREENING_PANEL

    for code, value, unit, lln, uln in NORMAL_SCREENING_PANEL:
        record_lab(patient, code, value, unit, lln=lln, uln=uln)
    record_ecog(patient, 0)
    investigator = make_user("ivy", "investigator", "NCT03304288")
    criteria = patient.study.current_protocol().eligibility_criteria.filter(rule__isnull=True)
    body = {f"answers__{c.code}": "met" if c.kind == "inclusion" else "not_met" for c in criteria}
    response = admin_client(investigator).post(page("eligibility", patient), body)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.status == "eligible"


@pytest.fixture
def eligible(patient, screen_eligible):
    return screen_eligible(patient)


def test_randomize_from_the_admin(coordinator, eligible, allocation_list, multisite_study):
    allocation_list(multisite_study)
    client = admin_client(coordinator)
    form = client.get(page("allocate", eligible)).context["form"]
    assert "randomized_at" not in form.fields  # back-entry is for data managers
    response = client.post(page("allocate", eligible), {"reason": ""})
    assert response.status_code == 302
    slot = AllocationSlot.objects.get(patient=eligible)
    eligible.refresh_from_db()
    assert (eligible.status, eligible.arm, eligible.day1) == ("randomized", slot.arm, TODAY)
    assert Visit.objects.filter(patient=eligible).count() == 22


def test_randomize_without_a_list_shows_why_and_changes_nothing(coordinator, eligible):
    response = admin_client(coordinator).post(page("allocate", eligible), {})
    assert response.status_code == 200
    [message] = response.context["form"].non_field_errors()
    assert message.startswith("study: NCT03304288 has no randomization list yet")
    eligible.refresh_from_db()
    assert (eligible.status, eligible.arm) == ("eligible", None)


def test_data_manager_back_enters_from_the_admin(
    make_user, eligible, allocation_list, multisite_study
):
    allocation_list(multisite_study)
    client = admin_client(make_user("dana", "data_manager", "NCT03304288"))
    response = client.post(page("allocate", eligible), {"randomized_at": "2025-01-09"})
    assert response.status_code == 302
    assert AllocationSlot.objects.get(patient=eligible).back_entered is True


def test_withdrawal_without_a_coded_reason_is_refused(
    coordinator, eligible, allocation_list, multisite_study
):
    from patients.randomization import patient_randomize

    allocation_list(multisite_study)
    patient_randomize(actor=coordinator, patient=eligible)
    response = admin_client(coordinator).post(
        page("status", eligible),
        {"status": "withdrawn", "on": TODAY.isoformat(), "reason": "moved abroad"},
    )
    assert response.status_code == 200
    assert "reason_code" in response.context["form"].errors
    eligible.refresh_from_db()
    assert eligible.status == "randomized"


def test_recording_a_visit_from_the_admin_flags_a_deviation(
    coordinator, eligible, allocation_list, multisite_study
):
    from patients.randomization import patient_randomize

    allocation_list(multisite_study)
    patient_randomize(actor=coordinator, patient=eligible)
    day1 = Visit.objects.get(patient=eligible, code="D1")
    response = admin_client(coordinator).post(
        f"/admin/visits/visit/{day1.pk}/record/",
        {"status": "completed", "actual_date": "2025-01-08"},
    )
    assert response.status_code == 200  # before day 1: refused on its field
    assert "actual_date" in response.context["form"].errors
    response = admin_client(coordinator).post(
        f"/admin/visits/visit/{day1.pk}/record/",
        {"status": "completed", "actual_date": TODAY.isoformat()},
    )
    assert response.status_code == 302
    day1.refresh_from_db()
    assert (day1.status, day1.out_of_window) == ("completed", False)


def test_a_foreign_patient_has_no_workflow_pages(make_user, multisite_study, make_patient):
    foreign = make_patient(multisite_study, "NAVY")
    client = admin_client(make_user("cora", "coordinator", "NCT03304288", ["PKUPH"]))
    assert client.get(page("consent", foreign)).status_code == 404
    assert (
        client.post(
            page("consent", foreign), {"consented_at": "2025-01-03", "consent_version": "1"}
        ).status_code
        == 404
    )
    assert not Consent.objects.exists()


# --- Allocation lists ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "investigator", "monitor", "statistician"])
def test_allocation_lists_are_absent_for_everyone_but_data_managers(
    make_user, multisite_study, allocation_list, role
):
    allocation_list(multisite_study)
    client = admin_client(make_user("someone", role, "NCT03304288"))
    index = client.get("/admin/").content.decode()
    assert "allocation" not in index.lower()
    assert client.get("/admin/randomization/allocationlist/").status_code == 403
    allocation_id = multisite_study.allocation_lists.get().pk
    assert client.get(
        f"/admin/randomization/allocationlist/{allocation_id}/change/"
    ).status_code in (
        302,
        403,
    )
    assert not AllocationListView.objects.exists()


def test_data_manager_opens_a_list_and_the_view_is_logged(
    make_user, multisite_study, allocation_list
):
    generated = allocation_list(multisite_study, size=2)
    client = admin_client(make_user("dana", "data_manager", "NCT03304288"))
    response = client.get(f"/admin/randomization/allocationlist/{generated.pk}/change/")
    assert response.status_code == 200
    assert generated.slots.first().arm.code in response.content.decode()
    [view] = AllocationListView.objects.all()
    assert (view.viewed_by.username, view.channel) == ("dana", "admin")


def test_a_consent_dated_before_the_study_started_is_refused(coordinator, patient):
    response = admin_client(coordinator).post(
        page("consent", patient), {"consented_at": "2017-10-10", "consent_version": "1.0"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "consented_at": ["Must not be before the study started (2017-10-11)."]
    }
    assert not Consent.objects.exists()
