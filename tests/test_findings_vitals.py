"""Vital signs (with plausibility ranges) and ECOG performance status."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from trials.models import Study
from visits.findings.models import EcogAssessment, VitalSigns

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def client(client_for, make_user):
    return client_for(make_user("cora", "coordinator", "NCT03918265", ["PUMCH"]))


@pytest.fixture
def patient(make_patient):
    return make_patient(Study.objects.get(registry_id="NCT03918265"), "PUMCH", diagnosis="AIHA")


def vitals(for_patient, **values) -> dict:
    body = {
        "patient": for_patient.pk,
        "measured_on": str(TODAY),
        "systolic_mmhg": 124,
        "diastolic_mmhg": 78,
        "heart_rate_bpm": 72,
        "temperature_c": "36.8",
        "weight_kg": "61.5",
        "height_cm": "165.0",
    }
    body.update(values)
    return {k: v for k, v in body.items() if v is not None}


def test_vital_signs_are_recorded(client, patient):
    response = client.post("/api/vital-signs/", vitals(patient), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["systolic_mmhg"], body["diastolic_mmhg"], body["temperature_c"]) == (
        124,
        78,
        "36.8",
    )
    assert (body["weight_kg"], body["height_cm"]) == ("61.5", "165.0")


def test_a_single_measurement_is_enough(client, patient):
    body = {"patient": patient.pk, "measured_on": str(TODAY), "weight_kg": "58.0"}

    assert client.post("/api/vital-signs/", body, format="json").status_code == 201


NONE_MEASURED = {
    "systolic_mmhg": None,
    "diastolic_mmhg": None,
    "heart_rate_bpm": None,
    "temperature_c": None,
    "weight_kg": None,
    "height_cm": None,
}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"systolic_mmhg": 300}, "systolic_mmhg"),
        ({"systolic_mmhg": 40}, "systolic_mmhg"),
        ({"diastolic_mmhg": 10}, "diastolic_mmhg"),
        ({"diastolic_mmhg": 130, "systolic_mmhg": 120}, "diastolic_mmhg"),  # not below systolic
        ({"diastolic_mmhg": None}, "diastolic_mmhg"),  # a pressure has both values
        ({"heart_rate_bpm": 10}, "heart_rate_bpm"),
        ({"heart_rate_bpm": 260}, "heart_rate_bpm"),
        ({"temperature_c": "45.0"}, "temperature_c"),
        ({"temperature_c": "29.9"}, "temperature_c"),
        ({"weight_kg": "12.0"}, "weight_kg"),
        ({"weight_kg": "-60"}, "weight_kg"),
        ({"height_cm": "300.0"}, "height_cm"),
        ({"measured_on": str(TODAY + dt.timedelta(days=1))}, "measured_on"),
        (NONE_MEASURED, "systolic_mmhg"),
        ({"patient": 999999}, "patient"),
    ],
)
def test_implausible_vital_signs_are_refused_naming_the_field(client, patient, values, field):
    response = client.post("/api/vital-signs/", vitals(patient, **values), format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not VitalSigns.objects.exists()


def test_a_vital_signs_correction_is_checked_and_versioned(client, patient):
    created = client.post("/api/vital-signs/", vitals(patient), format="json").json()
    url = f"/api/vital-signs/{created['id']}/"

    refused = client.patch(
        url, {"systolic_mmhg": 70, "reason": "typo", "version": 1}, format="json"
    )
    corrected = client.patch(
        url, {"weight_kg": "62.0", "reason": "re-weighed", "version": 1}, format="json"
    )
    stale = client.patch(url, {"weight_kg": "63.0", "reason": "again", "version": 1}, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "diastolic_mmhg"
    assert (corrected.status_code, corrected.json()["weight_kg"]) == (200, "62.0")
    assert stale.status_code == 409
    assert VitalSigns.objects.get().weight_kg == 62


@pytest.mark.parametrize("score", [0, 1, 2, 3, 4, 5])
def test_ecog_is_recorded(client, patient, score):
    response = client.post(
        "/api/ecog-assessments/",
        {"patient": patient.pk, "assessed_on": str(TODAY), "score": score},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["score"] == score


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"score": 6}, "score"),
        ({"score": -1}, "score"),
        ({"assessed_on": str(TODAY + dt.timedelta(days=1))}, "assessed_on"),
        ({"patient": 999999}, "patient"),
    ],
)
def test_invalid_ecog_is_refused_naming_the_field(client, patient, body, field):
    payload = {"patient": patient.pk, "assessed_on": str(TODAY), "score": 1, **body}

    response = client.post("/api/ecog-assessments/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert not EcogAssessment.objects.exists()


def test_ecog_history_shows_the_correction(client, patient):
    created = client.post(
        "/api/ecog-assessments/",
        {"patient": patient.pk, "assessed_on": str(TODAY), "score": 1},
        format="json",
    ).json()
    url = f"/api/ecog-assessments/{created['id']}/"

    client.patch(url, {"score": 2, "reason": "Re-assessed", "version": 1}, format="json")

    history = client.get(f"{url}history/").json()["results"]
    assert history[-1]["changes"] == [{"field": "score", "old": 1, "new": 2}]
    assert history[-1]["user"] == "cora"
