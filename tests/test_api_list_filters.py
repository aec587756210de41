"""Lists an integrator can sync from (issue 11): `updated_since`, patients by subject id, and a
400 listing the accepted filters for an unknown one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ecrf.audit import void_audited
from visits.labs.models import LabResult


@pytest.fixture
def client(client_for, superuser):
    return client_for(superuser)


def test_updated_since_lists_what_changed_voids_included(
    client, superuser, study, make_patient, record_lab
):
    patient = make_patient(study, "PKUPH")
    old = record_lab(patient, "ALT", "30", "U/L", uln="40")
    kept = record_lab(patient, "AST", "25", "U/L", uln="35")
    # Backdated in the test only (no history row needed for a timestamp the test sets).
    LabResult.objects.filter(pk__in=[old.pk, kept.pk]).update(
        updated_at=timezone.now() - dt.timedelta(days=2)
    )
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    voided = void_audited(
        LabResult.objects.get(pk=old.pk),
        actor=superuser,
        reason="Wrong patient",
        expected_version=1,
    )
    listing = client.get("/api/lab-results/", {"patient": patient.pk, "updated_since": since})
    assert listing.status_code == 200, listing.json()
    assert [(r["id"], r["is_voided"]) for r in listing.json()["results"]] == [(voided.pk, True)]

    naive = client.get("/api/lab-results/", {"updated_since": "2025-03-04T08:00:00"})
    assert naive.status_code == 400
    assert naive.json()["errors"][0]["field"] == "updated_since"


def test_patients_are_found_by_subject_id(client, study, make_patient):
    first, second = make_patient(study, "PKUPH"), make_patient(study, "PKUPH")
    listing = client.get("/api/patients/", {"subject_id": second.subject_id}).json()
    assert [p["id"] for p in listing["results"]] == [second.pk]
    assert first.subject_id != second.subject_id


def test_an_unknown_filter_is_a_400_listing_the_accepted_ones(client):
    response = client.get("/api/lab-results/", {"colected_after": "2025-01-01"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("colected_after", "unknown_filter")
    assert error["message"] == (
        "Unknown filter; this list accepts: ctcae_grade, format, indicator, is_voided, ordering, "
        "page, page_size, patient, range_source, test_code, updated_since, visit."
    )
