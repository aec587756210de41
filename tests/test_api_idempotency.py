"""`Idempotency-Key` on every POST (issue 11): a retry gets the first answer and stores nothing
new; the same key for another request is a 422; keys are per user; an error does not spend the
key; concurrent duplicates are stored once."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from ecrf.idempotency import request_fingerprint
from ecrf.models import IdempotencyKey
from ecrf.tokens import issue_token
from patients.models import Patient
from visits.labs.models import LabResult

LAB = {
    "collected_at": "2025-03-04T08:30:00Z",
    "test_code": "HGB",
    "value": "9.5",
    "unit": "g/dL",
    "lln": "12",
    "uln": "16",
}


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def patient(multisite_study, make_patient, coordinator):
    return make_patient(multisite_study, "PKUPH", actor=coordinator)


def lab_body(patient, **overrides):
    return {"patient": patient.pk, **LAB, **overrides}


@pytest.mark.django_db
def test_a_retry_with_the_same_key_gets_the_first_answer_and_stores_nothing_new(
    client_for, coordinator, patient
):
    client = client_for(coordinator)
    first = client.post("/api/lab-results/", lab_body(patient), HTTP_IDEMPOTENCY_KEY="lab-001")
    assert first.status_code == 201, first.json()
    assert "Idempotent-Replayed" not in first

    retry = client.post("/api/lab-results/", lab_body(patient), HTTP_IDEMPOTENCY_KEY="lab-001")
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert retry["ETag"] == first["ETag"] == '"1"'
    assert list(LabResult.objects.filter(patient=patient).values_list("pk", flat=True)) == [
        first.json()["id"]
    ]
    stored = IdempotencyKey.objects.get()
    assert (stored.user_id, stored.key, stored.method, stored.path, stored.response_status) == (
        coordinator.pk,
        "lab-001",
        "POST",
        "/api/lab-results/",
        201,
    )
    assert stored.request_hash == request_fingerprint(json.dumps(lab_body(patient)).encode())
    assert json.loads(stored.response_body) == first.json()
    assert stored.expires_at - stored.created_at == dt.timedelta(hours=24)


@pytest.mark.django_db
def test_the_body_is_compared_by_its_json_not_its_spacing_or_key_order(
    client_for, coordinator, patient
):
    client = client_for(coordinator)
    body = lab_body(patient)
    first = client.post(
        "/api/lab-results/",
        json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-spacing",
    )
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    retry = client.post(
        "/api/lab-results/",
        reordered,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-spacing",
    )
    assert (first.status_code, retry.status_code, retry["Idempotent-Replayed"]) == (
        201,
        201,
        "true",
    )
    assert LabResult.objects.filter(patient=patient).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "change"),
    [("/api/lab-results/", {"value": "9.6"}), ("/api/vital-signs/", None)],
    ids=["other body", "other path"],
)
def test_the_same_key_for_another_request_is_a_422_and_stores_nothing(
    client_for, coordinator, patient, path, change
):
    client = client_for(coordinator)
    assert (
        client.post("/api/lab-results/", lab_body(patient), HTTP_IDEMPOTENCY_KEY="k-1").status_code
        == 201
    )
    other = lab_body(patient, **change) if change else {"patient": patient.pk, "weight_kg": "61"}
    response = client.post(path, other, HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 422
    body = response.json()
    assert (body["status"], body["code"]) == (422, "idempotency_key_reused")
    [error] = body["errors"]
    assert (error["field"], error["code"]) == ("Idempotency-Key", "idempotency_key_reused")
    assert error["message"] == (
        "This Idempotency-Key was used for another request (POST /api/lab-results/ with "
        "another body); use a new key for a new request."
    )
    assert LabResult.objects.filter(patient=patient).count() == 1
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_user(client_for, coordinator, make_user, patient):
    colleague = make_user("cole", "coordinator", "NCT03304288", ["PKUPH"])
    mine = client_for(coordinator).post(
        "/api/lab-results/", lab_body(patient), HTTP_IDEMPOTENCY_KEY="one-key-for-both"
    )
    theirs = client_for(colleague).post(
        "/api/lab-results/", lab_body(patient), HTTP_IDEMPOTENCY_KEY="one-key-for-both"
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["id"] != mine.json()["id"]
    assert sorted(IdempotencyKey.objects.values_list("user__username", flat=True)) == [
        "cole",
        "cora",
    ]


@pytest.mark.django_db
def test_an_error_answer_does_not_spend_the_key(client_for, coordinator, patient):
    client = client_for(coordinator)
    refused = client.post(
        "/api/lab-results/",
        lab_body(patient, collected_at="2025-03-04T08:30:00"),
        HTTP_IDEMPOTENCY_KEY="k-err",
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "collected_at"
    assert IdempotencyKey.objects.count() == 0

    fixed = client.post("/api/lab-results/", lab_body(patient), HTTP_IDEMPOTENCY_KEY="k-err")
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed
    assert IdempotencyKey.objects.get().response_status == 201


@pytest.mark.django_db
def test_an_expired_key_is_free_again_and_purged(client_for, coordinator, patient):
    client = client_for(coordinator)
    client.post("/api/lab-results/", lab_body(patient), HTTP_IDEMPOTENCY_KEY="k-old")
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    again = client.post(
        "/api/lab-results/", lab_body(patient, value="9.7"), HTTP_IDEMPOTENCY_KEY="k-old"
    )
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert LabResult.objects.filter(patient=patient).count() == 2
    assert IdempotencyKey.objects.get().request_hash == request_fingerprint(
        json.dumps(lab_body(patient, value="9.7")).encode()
    )

    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    out = io.StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert out.getvalue() == "Deleted 1 expired idempotency key(s).\n"
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "clé"])
def test_a_malformed_key_is_a_400_naming_the_header(client_for, coordinator, patient, key):
    response = client_for(coordinator).post(
        "/api/lab-results/", lab_body(patient), HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("Idempotency-Key", "invalid")
    assert LabResult.objects.count() == 0


@pytest.mark.django_db
def test_other_posts_replay_too_a_patient_is_screened_once(
    client_for, coordinator, multisite_study
):
    site = multisite_study.sites.get(code="PKUPH")
    body = {
        "study": multisite_study.pk,
        "site": site.pk,
        "sex": "M",
        "birth_date": "1970-01-02",
        "height_cm": "170",
        "weight_kg": "70",
    }
    client = client_for(coordinator)
    first = client.post("/api/patients/", body, HTTP_IDEMPOTENCY_KEY="screen-1")
    retry = client.post("/api/patients/", body, HTTP_IDEMPOTENCY_KEY="screen-1")
    assert (first.status_code, retry.status_code, retry["Idempotent-Replayed"]) == (
        201,
        201,
        "true",
    )
    assert retry.json()["subject_id"] == first.json()["subject_id"]
    assert Patient.objects.filter(study=multisite_study).count() == 1


@pytest.mark.django_db
def test_an_anonymous_post_with_a_key_is_answered_as_without_it(api_client_plain):
    response = api_client_plain.post(
        "/api/lab-results/", {"patient": 1}, HTTP_IDEMPOTENCY_KEY="anon"
    )
    assert response.status_code == 401
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.django_db
def test_the_schema_documents_the_key_on_every_post_by_a_user(client_for, superuser):
    schema = client_for(superuser).get("/api/schema/", {"format": "json"}).json()
    posts = {
        path: operation
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method == "post"
    }
    without = sorted(
        path
        for path, operation in posts.items()
        if "Idempotency-Key" not in {p["name"] for p in operation.get("parameters", [])}
    )
    assert without == ["/api/auth/token/"]
    assert len(posts) > 20
    for path, operation in posts.items():
        if path != "/api/auth/token/":
            assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorEnvelope"
            }, path


# --- Concurrent duplicates (PostgreSQL: two connections at once) --------------------------------


def _waiting_backends() -> int:
    with connection.cursor() as cursor:
        # Statistics are a snapshot per transaction: take a fresh one each time.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_are_stored_once():
    from django.contrib.auth import get_user_model

    from patients.services import patient_create
    from trials.models import Study
    from trials.services import load_protocol

    load_protocol("NCT03304288")
    study = Study.objects.get(registry_id="NCT03304288")
    user = get_user_model().objects.create_superuser("dup", password="dup-pass-2026")
    patient = patient_create(
        actor=user,
        study=study,
        site=study.sites.get(code="PKUPH"),
        sex="F",
        birth_date=dt.date(1980, 5, 17),
        height_cm=165,
        weight_kg=60,
        screened_on=dt.date(2025, 1, 6),
    )
    key, _ = issue_token(user)
    answers: list = []

    def send():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            answers.append(
                client.post("/api/lab-results/", lab_body(patient), HTTP_IDEMPOTENCY_KEY="twice")
            )
        finally:
            connection.close()

    # Hold the patient's row so the first request waits inside the lab service with its key
    # claimed; the second then waits on the key. Released, both finish.
    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=patient.pk)
        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while _waiting_backends() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_backends() == 2
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(a.status_code for a in answers) == [201, 201]
    assert sorted(a.get("Idempotent-Replayed", "no") for a in answers) == ["no", "true"]
    assert answers[0].json() == answers[1].json()
    assert LabResult.objects.filter(patient=patient).count() == 1
    assert IdempotencyKey.objects.count() == 1
