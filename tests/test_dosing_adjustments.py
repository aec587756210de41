"""Dose adjustments: a new daily dose from a date, ending one record and opening the next."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from trials.models import Study
from visits.dosing.models import DoseAdjustment, DoseRecord

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = timezone.localdate()
DAY1 = TODAY - dt.timedelta(days=30)


def days(n: int) -> str:
    return str(DAY1 + dt.timedelta(days=n))


@pytest.fixture
def client(client_for, make_user):
    return client_for(make_user("ivy", "investigator", "NCT05471050"))


@pytest.fixture
def patient(make_patient, place_on_arm):
    study = Study.objects.get(registry_id="NCT05471050")
    return place_on_arm(make_patient(study, "PKUPH"), "TAC_DAN", day1=DAY1)


@pytest.fixture
def ongoing(client, patient):
    body = {
        "patient": patient.pk,
        "drug": "tacrolimus",
        "start_date": days(0),
        "dose_mg": "1.0",
        "frequency": "bid",
    }
    response = client.post("/api/dose-records/", body, format="json")
    assert response.status_code == 201
    return DoseRecord.objects.get(pk=response.json()["id"])


def adjustment(for_patient, **overrides) -> dict:
    body = {
        "patient": for_patient.pk,
        "drug": "tacrolimus",
        "effective_date": days(10),
        "new_daily_mg": "3.0",
        "reason_code": "weight_change",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def test_an_adjustment_ends_the_ongoing_record_and_opens_the_new_dose(client, patient, ongoing):
    response = client.post("/api/dose-adjustments/", adjustment(patient), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["previous_daily_mg"], body["new_daily_mg"], body["reason_code"]) == (
        "2.000",
        "3.000",
        "weight_change",
    )
    closed, opened = DoseRecord.objects.order_by("start_date")
    assert (closed.pk, closed.end_date, closed.version) == (
        ongoing.pk,
        DAY1 + dt.timedelta(days=9),
        2,
    )
    assert (opened.start_date, opened.end_date, opened.dose_mg, opened.frequency) == (
        DAY1 + dt.timedelta(days=10),
        None,
        D("1.500"),
        "bid",
    )
    assert (body["closed_record"], body["opened_record"]) == (closed.pk, opened.pk)
    [change] = [e for e in closed.history.all() if e.history_type == "~"]
    assert change.history_change_reason == "Ended by a dose adjustment (Weight change)"


def test_the_adjustment_shows_in_the_patients_dosing(client, patient, ongoing):
    client.post("/api/dose-adjustments/", adjustment(patient), format="json")

    overview = client.get(f"/api/patients/{patient.pk}/dosing/").json()

    assert [(a["previous_daily_mg"], a["new_daily_mg"]) for a in overview["adjustments"]] == [
        ("2.000", "3.000")
    ]
    assert [(r["start_date"], r["end_date"]) for r in overview["dose_records"]] == [
        (days(0), days(9)),
        (days(10), None),
    ]


FUTURE = str(TODAY + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason_code": "other"}, "comment"),  # 'other' must be explained
        ({"reason_code": "because"}, "reason_code"),
        ({"effective_date": days(0)}, "effective_date"),  # not after the ongoing record's start
        ({"effective_date": FUTURE}, "effective_date"),
        ({"new_daily_mg": "0"}, "new_daily_mg"),
        ({"new_daily_mg": "-2"}, "new_daily_mg"),
        ({"new_daily_mg": "2.0"}, "new_daily_mg"),  # the current dose: nothing to adjust
        ({"drug": "danazol"}, "drug"),  # no ongoing danazol record
        ({"drug": "rituximab"}, "drug"),  # not a drug of the arm
        ({"trough_result": 999999}, "trough_result"),
        ({"adverse_event_id": 999999}, "adverse_event_id"),
        ({"adverse_event_id": 0}, "adverse_event_id"),
        ({"patient": 999999}, "patient"),
    ],
)
def test_invalid_adjustments_change_nothing(client, patient, ongoing, overrides, field):
    response = client.post(
        "/api/dose-adjustments/", adjustment(patient, **overrides), format="json"
    )

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not DoseAdjustment.objects.exists()
    assert list(DoseRecord.objects.values_list("pk", "end_date", "version")) == [
        (ongoing.pk, None, 1)
    ]


def test_a_trough_of_another_patient_cannot_justify_an_adjustment(
    client, patient, ongoing, make_patient, record_trough
):
    other = make_patient(patient.study, "PKUPH")
    foreign_trough = record_trough(other, "2.0", on=DAY1)

    response = client.post(
        "/api/dose-adjustments/",
        adjustment(patient, trough_result=foreign_trough.pk, reason_code="trough_out_of_range"),
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "trough_result"
    assert not DoseAdjustment.objects.exists()


def test_an_adjustment_cites_an_adverse_event_of_the_patient(
    client, patient, ongoing, record_adverse_event
):
    event = record_adverse_event(patient, onset=DAY1 + dt.timedelta(days=5))

    response = client.post(
        "/api/dose-adjustments/",
        adjustment(patient, reason_code="adverse_event", adverse_event_id=event.pk),
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["adverse_event_id"] == event.pk
    assert DoseAdjustment.objects.get().adverse_event == event


@pytest.mark.parametrize("method", ["post", "patch"])
def test_an_adverse_event_of_another_patient_is_refused(
    client, patient, ongoing, make_patient, record_adverse_event, method
):
    other = make_patient(patient.study, "PKUPH")
    foreign_event = record_adverse_event(other, onset=DAY1 + dt.timedelta(days=5))
    if method == "post":
        body = adjustment(patient, adverse_event_id=foreign_event.pk)
        response = client.post("/api/dose-adjustments/", body, format="json")
    else:
        created = client.post("/api/dose-adjustments/", adjustment(patient), format="json")
        url = f"/api/dose-adjustments/{created.json()['id']}/"
        body = {"adverse_event_id": foreign_event.pk, "reason": "Cite the event", "version": 1}
        response = client.patch(url, body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == "adverse_event_id"
    assert not DoseAdjustment.objects.filter(adverse_event__isnull=False).exists()


def test_the_reason_can_be_corrected_with_the_current_version_only(client, patient, ongoing):
    created = client.post("/api/dose-adjustments/", adjustment(patient), format="json").json()
    url = f"/api/dose-adjustments/{created['id']}/"

    corrected = client.patch(
        url,
        {"reason_code": "investigator_decision", "reason": "Wrong code chosen", "version": 1},
        format="json",
    )
    stale = client.patch(url, {"comment": "late edit", "reason": "x", "version": 1}, format="json")

    assert corrected.status_code == 200
    assert (corrected.json()["reason_code"], corrected.json()["version"]) == (
        "investigator_decision",
        2,
    )
    assert stale.status_code == 409
    assert DoseAdjustment.objects.get().comment == ""


def test_voiding_an_adjustment_leaves_the_dose_records(client, patient, ongoing):
    created = client.post("/api/dose-adjustments/", adjustment(patient), format="json").json()

    voided = client.delete(
        f"/api/dose-adjustments/{created['id']}/",
        {"reason": "Duplicate entry", "version": 1},
        format="json",
    )

    assert voided.status_code == 200
    assert voided.json()["is_voided"] is True
    assert DoseRecord.objects.filter(is_voided=False).count() == 2
