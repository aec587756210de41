"""History speaks the API (issue 11): the answers' field names and formats, not storage names."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


def test_a_lab_results_history_uses_the_answers_names_and_formats(
    client_for, coordinator, multisite_study, make_patient
):
    client = client_for(coordinator)
    patient = make_patient(multisite_study, "PKUPH", actor=coordinator)
    response = client.post(
        "/api/lab-results/",
        {
            "patient": patient.pk,
            "collected_at": "2025-03-04T08:30:00+08:00",
            "test_code": "hgb",
            "value": "9.5",
            "unit": "g/dL",
            "lln": "12",
            "uln": "16",
            "accession": "A-1",
        },
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    patched = client.patch(
        f"/api/lab-results/{created['id']}/",
        {"value": "7.5", "reason": "Transcription error", "version": 1},
    )
    assert patched.status_code == 200, patched.json()

    history = client.get(f"/api/lab-results/{created['id']}/history/").json()["results"]
    first = {c["field"]: c["new"] for c in history[0]["changes"]}
    assert first["accession"] == "A-1"
    assert first["collected_at"] == "2025-03-04T00:30:00Z"
    assert first["patient"] == patient.pk
    assert (first["test_code"], first["value"], first["lln"]) == ("HGB", "9.5", "12")
    assert first["ctcae.term"] == "Anemia"
    assert first["ctcae.grade"] == 2
    assert not {"source_accession", "ctcae_term", "ctcae_grade", "patient_id"} & set(first)
    change = {c["field"]: (c["old"], c["new"]) for c in history[1]["changes"]}
    assert change["value"] == ("9.5", "7.5")
    assert change["ctcae.grade"] == (2, 3)


def test_a_patients_history_gives_the_arm_as_its_code(
    client_for, coordinator, multisite_study, make_patient, place_on_arm
):
    patient = make_patient(multisite_study, "PKUPH", actor=coordinator)
    place_on_arm(patient, "RTX_ATRA", day1=dt.date(2025, 1, 8))
    history = client_for(coordinator).get(f"/api/patients/{patient.pk}/history/").json()
    change = {c["field"]: (c["old"], c["new"]) for c in history["results"][1]["changes"]}
    assert change["arm"] == (None, "RTX_ATRA")
    assert change["day1"] == (None, "2025-01-08")
    answer = client_for(coordinator).get(f"/api/patients/{patient.pk}/").json()
    assert answer["arm"] == "RTX_ATRA"
