"""The dosing admin: dose records and adjustments through the services; plans read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from trials.models import Study
from visits.dosing.models import DoseAdjustment, DosePlan, DoseRecord
from visits.dosing.services.planning import dose_plans_create

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY1 = TODAY - dt.timedelta(days=20)


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def patient(make_patient, place_on_arm):
    study = Study.objects.get(registry_id="NCT05471050")
    return place_on_arm(make_patient(study, "PKUPH"), "TAC_DAN", day1=DAY1)


def record_form(patient, **values) -> dict:
    data = {
        "patient": patient.pk,
        "drug": "tacrolimus",
        "start_date": str(DAY1),
        "end_date": "",
        "dose_mg": "1.0",
        "frequency": "bid",
        "given": "on",
        "note": "",
    }
    data.update(values)
    return data


def test_dose_records_added_in_the_admin_follow_the_api_rules(admin_client, patient):
    url = "/admin/dosing/doserecord/add/"

    added = admin_client.post(url, record_form(patient))
    overlapping = admin_client.post(
        url, record_form(patient, start_date=str(DAY1 + dt.timedelta(days=3)))
    )
    foreign_drug = admin_client.post(url, record_form(patient, drug="rituximab"))

    assert added.status_code == 302
    assert overlapping.status_code == 200
    assert "start_date" in overlapping.context["adminform"].form.errors
    assert "drug" in foreign_drug.context["adminform"].form.errors
    record = DoseRecord.objects.get()
    assert (record.regimen.code, record.daily_mg) == ("TAC_DAN_tacrolimus", 2)


def adjustment_form(patient, **values) -> dict:
    data = {
        "patient": patient.pk,
        "drug": "tacrolimus",
        "effective_date": str(TODAY),
        "new_daily_mg": "3.0",
        "reason_code": "adverse_event",
        "comment": "",
        "trough_result": "",
        "adverse_event": "",
    }
    data.update(values)
    return data


def test_an_adjustment_added_in_the_admin_switches_the_records(
    admin_client, patient, record_adverse_event
):
    admin_client.post("/admin/dosing/doserecord/add/", record_form(patient))
    event = record_adverse_event(patient, onset=DAY1 + dt.timedelta(days=5))

    response = admin_client.post(
        "/admin/dosing/doseadjustment/add/", adjustment_form(patient, adverse_event=event.pk)
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    adjustment = DoseAdjustment.objects.get()
    assert (adjustment.previous_daily_mg, adjustment.new_daily_mg, adjustment.adverse_event) == (
        2,
        3,
        event,
    )
    assert list(DoseRecord.objects.order_by("start_date").values_list("end_date", "daily_mg")) == [
        (TODAY - dt.timedelta(days=1), 2),
        (None, 3),
    ]


def test_the_admin_refuses_an_adverse_event_of_another_patient(
    admin_client, patient, make_patient, record_adverse_event
):
    admin_client.post("/admin/dosing/doserecord/add/", record_form(patient))
    other = make_patient(patient.study, "PKUPH")
    foreign_event = record_adverse_event(other, onset=DAY1 + dt.timedelta(days=5))

    response = admin_client.post(
        "/admin/dosing/doseadjustment/add/",
        adjustment_form(patient, adverse_event=foreign_event.pk),
    )

    assert response.status_code == 200
    assert "adverse_event" in response.context["adminform"].form.errors
    assert not DoseAdjustment.objects.exists()


def test_plans_are_shown_read_only_with_their_taper(
    admin_client, make_patient, place_on_arm, superuser
):
    study = Study.objects.get(registry_id="NCT05694130")
    patient = place_on_arm(make_patient(study, "PUMCH"), "PRED", day1=DAY1)
    [plan] = dose_plans_create(actor=superuser, patient=patient)

    listing = admin_client.get("/admin/dosing/doseplan/")
    page = admin_client.get(f"/admin/dosing/doseplan/{plan.pk}/change/")
    edit = admin_client.post(f"/admin/dosing/doseplan/{plan.pk}/change/", {"rounded_mg": "1"})

    assert listing.status_code == 200
    assert page.status_code == 200
    assert "7.500" in page.content.decode()
    assert edit.status_code == 403
    assert DosePlan.objects.get().rounded_mg == 60
