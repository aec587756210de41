"""The findings admin: same rules as the API (through the services), scoped, audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from visits.findings.models import BleedingAssessment, EssdaiAssessment

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ADD = "/admin/findings/bleedingassessment/add/"


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def patient(multisite_study, make_patient):
    return make_patient(multisite_study, "PKUPH")


def form(patient, **values) -> dict:
    data = {
        "patient": patient.pk,
        "visit": "",
        "assessed_at": str(TODAY),
        "who_grade": "1",
        "itp_bat_skin": "",
        "itp_bat_mucosal": "",
        "itp_bat_organ": "",
        "notes": "",
        "reason_for_change": "",
    }
    data.update(values)
    return data


def test_an_assessment_added_in_the_admin_gets_its_smog_and_audit(admin_client, patient):
    response = admin_client.post(
        ADD, form(patient, itp_bat_skin="2", itp_bat_mucosal="1", itp_bat_organ="0")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assessment = BleedingAssessment.objects.get()
    assert (assessment.smog, assessment.version) == ("S2M1O0", 1)
    created = assessment.history.get()
    assert (created.history_user.username, created.history_change_reason) == (
        "root",
        "Bleeding assessment entered",
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"who_grade": "5"}, "who_grade"),
        ({"itp_bat_skin": "1", "itp_bat_mucosal": "1"}, "itp_bat_organ"),  # a service rule
        ({"assessed_at": str(TODAY + dt.timedelta(days=1))}, "assessed_at"),
    ],
)
def test_the_admin_form_shows_the_services_errors_and_stores_nothing(
    admin_client, patient, values, field
):
    response = admin_client.post(ADD, form(patient, **values))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not BleedingAssessment.objects.exists()
    assert not BleedingAssessment.history.exists()


def test_an_admin_change_needs_a_reason_and_the_current_version(admin_client, patient):
    admin_client.post(ADD, form(patient))
    assessment = BleedingAssessment.objects.get()
    url = f"/admin/findings/bleedingassessment/{assessment.pk}/change/"
    change = {k: v for k, v in form(patient, who_grade="2").items() if k != "patient"}

    without_reason = admin_client.post(url, {**change, "expected_version": "1"})
    saved = admin_client.post(
        url, {**change, "expected_version": "1", "reason_for_change": "Re-examined"}
    )
    stale = admin_client.post(
        url, {**change, "who_grade": "3", "expected_version": "1", "reason_for_change": "Late"}
    )

    assert without_reason.status_code == 200
    assert saved.status_code == 302
    assert stale.status_code == 200
    assessment.refresh_from_db()
    assert (assessment.who_grade, assessment.version) == (2, 2)
    assert assessment.history.first().history_change_reason == "Re-examined"


def test_essdai_added_in_the_admin_has_its_total(admin_client, patient):
    levels = dict.fromkeys(
        [
            "constitutional",
            "lymphadenopathy",
            "glandular",
            "articular",
            "cutaneous",
            "pulmonary",
            "renal",
            "muscular",
            "peripheral_nervous",
            "central_nervous",
            "haematological",
            "biological",
        ],
        "0",
    )
    data = {"patient": patient.pk, "visit": "", "assessed_on": str(TODAY), **levels}

    refused = admin_client.post(
        "/admin/findings/essdaiassessment/add/", {**data, "central_nervous": "1"}
    )
    added = admin_client.post(
        "/admin/findings/essdaiassessment/add/", {**data, "haematological": "3"}
    )

    assert refused.status_code == 200
    assert added.status_code == 302
    assert EssdaiAssessment.objects.get().total == 6


def test_admin_lists_only_the_users_sites(multisite_study, make_patient, make_user, admin_client):
    own = make_patient(multisite_study, "PKUPH")
    foreign = make_patient(multisite_study, "NAVY")
    admin_client.post(ADD, form(own))
    admin_client.post(ADD, form(foreign))
    coordinator = make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])
    coordinator.is_staff = True
    coordinator.save()
    client = Client()
    client.force_login(coordinator)

    listing = client.get("/admin/findings/bleedingassessment/")
    add_page = client.get(ADD)

    assert listing.status_code == 200
    assert [a.patient_id for a in listing.context["cl"].result_list] == [own.pk]
    offered = add_page.context["adminform"].form.fields["patient"].queryset
    assert list(offered) == [own]
    foreign_id = BleedingAssessment.objects.get(patient=foreign).pk
    page = client.get(f"/admin/findings/bleedingassessment/{foreign_id}/change/")
    assert page.status_code == 302  # redirected away: the record does not exist for them
