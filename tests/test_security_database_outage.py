"""Issue 13, finding 7: a lost database connection answers 503 in the JSON error format with
Retry-After, and nothing of the interrupted write is stored."""

from __future__ import annotations

import socket

import psycopg
import pytest
from django.db import connection

import ecrf.audit
from trials.models import Study
from trials.services import load_protocol
from visits.labs.models import LabResult

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

LAB = {
    "collected_at": "2025-03-04T08:30:00Z",
    "test_code": "HGB",
    "value": "9.5",
    "unit": "g/dL",
}


@pytest.fixture
def client_and_patient(client_for, make_user, make_patient):
    # A transactional test may start from a flushed database: load what it needs.
    if not Study.objects.filter(registry_id="NCT03304288").exists():
        load_protocol("NCT03304288")
    study = Study.objects.get(registry_id="NCT03304288")
    user = make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])
    return client_for(user), make_patient(study, "PKUPH", actor=user)


def assert_unavailable(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "status": 503,
        "code": "database_unavailable",
        "detail": "The database is unavailable; nothing was stored. Retry shortly.",
        "errors": [
            {
                "field": None,
                "message": "The database is unavailable; nothing was stored. Retry shortly.",
                "code": "database_unavailable",
            }
        ],
    }


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def test_database_refusing_connections_gives_503(client_and_patient):
    client, patient = client_and_patient
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port()
    try:
        response = client.post("/api/lab-results/", {**LAB, "patient": patient.pk}, format="json")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original
    assert_unavailable(response)
    assert LabResult.objects.count() == 0


def test_backend_killed_in_the_middle_of_a_write_gives_503_and_stores_nothing(
    client_and_patient, monkeypatch
):
    client, patient = client_and_patient
    real_check = ecrf.audit.check_plausible_dates
    params = connection.get_connection_params()

    def check_then_lose_the_connection(instance):
        real_check(instance)
        victim = connection.connection.info.backend_pid
        with psycopg.connect(**params, autocommit=True) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", [victim])

    monkeypatch.setattr(ecrf.audit, "check_plausible_dates", check_then_lose_the_connection)
    try:
        response = client.post("/api/lab-results/", {**LAB, "patient": patient.pk}, format="json")
    finally:
        connection.close()
    monkeypatch.undo()
    assert_unavailable(response)
    assert LabResult.objects.count() == 0
    assert LabResult.history.count() == 0
