"""The audit trail through the API: who, when, old value, new value, why; voids, not deletes."""

from __future__ import annotations

import pytest

from patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def patient(multisite_study, make_patient, coordinator):
    return make_patient(multisite_study, "PKUPH", actor=coordinator)


def test_creation_is_audited_with_the_acting_user(client_for, coordinator, patient):
    response = client_for(coordinator).get(f"/api/patients/{patient.pk}/history/")
    assert response.status_code == 200
    [entry] = response.json()["results"]
    assert entry["user"] == "cora"
    assert entry["type"] == "created"
    assert entry["reason"] == "Patient screened"
    assert {"field": "weight_kg", "old": None, "new": "60.0"} in entry["changes"]


def test_update_records_user_reason_and_old_and_new_values(client_for, coordinator, patient):
    client = client_for(coordinator)
    response = client.patch(
        f"/api/patients/{patient.pk}/",
        {
            "weight_kg": "62.5",
            "reason": "Transcription error, source document re-read",
            "version": 1,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["weight_kg"] == "62.5"
    assert response.json()["version"] == 2

    history = client.get(f"/api/patients/{patient.pk}/history/").json()["results"]
    assert [e["type"] for e in history] == ["created", "changed"]
    change = history[1]
    assert change["user"] == "cora"
    assert change["reason"] == "Transcription error, source document re-read"
    assert change["changes"] == [{"field": "weight_kg", "old": "60.0", "new": "62.5"}]
    assert change["changed_at"].endswith("Z")  # UTC


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_update_without_a_reason_is_refused_and_changes_nothing(
    client_for, coordinator, patient, reason
):
    body = {"weight_kg": "70.0", "version": 1}
    if reason is not None:
        body["reason"] = reason
    response = client_for(coordinator).patch(f"/api/patients/{patient.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"
    patient.refresh_from_db()
    assert (patient.weight_kg, patient.version, patient.history.count()) == (60, 1, 1)


def test_stale_version_is_a_conflict_and_changes_nothing(client_for, coordinator, patient):
    client = client_for(coordinator)
    first = client.patch(
        f"/api/patients/{patient.pk}/",
        {"weight_kg": "61.0", "reason": "weighed again", "version": 1},
        format="json",
    )
    assert first.status_code == 200
    second = client.patch(
        f"/api/patients/{patient.pk}/",
        {"weight_kg": "59.0", "reason": "my edit", "version": 1},
        format="json",
    )
    assert second.status_code == 409
    assert second.json()["code"] == "stale_version"
    assert second.json()["errors"][0]["field"] == "version"
    patient.refresh_from_db()
    assert patient.weight_kg == 61


def test_if_match_header_carries_the_version(client_for, coordinator, patient):
    client = client_for(coordinator)
    ok = client.patch(
        f"/api/patients/{patient.pk}/",
        {"height_cm": "166.0", "reason": "re-measured"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert ok.status_code == 200
    stale = client.patch(
        f"/api/patients/{patient.pk}/",
        {"height_cm": "167.0", "reason": "again"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert stale.status_code == 409


def test_update_without_any_version_is_refused(client_for, coordinator, patient):
    response = client_for(coordinator).patch(
        f"/api/patients/{patient.pk}/",
        {"height_cm": "166.0", "reason": "re-measured"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "version"


def test_delete_voids_the_record_which_stays_in_history(client_for, coordinator, patient):
    client = client_for(coordinator)
    refused = client.delete(f"/api/patients/{patient.pk}/", {"version": 1}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "reason"

    response = client.delete(
        f"/api/patients/{patient.pk}/",
        {"reason": "Duplicate entry of PKUPH-0002", "version": 1},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["is_voided"] is True
    assert Patient.objects.filter(pk=patient.pk).exists()  # never hard-deleted

    history = client.get(f"/api/patients/{patient.pk}/history/").json()["results"]
    assert history[-1]["type"] == "voided"
    assert history[-1]["reason"] == "Duplicate entry of PKUPH-0002"
    assert {"field": "is_voided", "old": False, "new": True} in history[-1]["changes"]


def test_invalid_value_in_an_update_names_the_field(client_for, coordinator, patient):
    response = client_for(coordinator).patch(
        f"/api/patients/{patient.pk}/",
        {"weight_kg": "-3", "reason": "x", "version": 1},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "weight_kg"
    patient.refresh_from_db()
    assert patient.version == 1
