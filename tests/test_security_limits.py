"""Issue 13, findings 8 and 9: body size and JSON depth limits, plausible dates, and updates of
fields that cannot change refused before anything is written."""

from __future__ import annotations

import json

import pytest

from ecrf.request_limits import json_depth
from patients.models import Patient
from visits.labs.models import LabResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def patient(multisite_study, make_patient, coordinator):
    return make_patient(multisite_study, "PKUPH", actor=coordinator)


@pytest.fixture
def client(client_for, coordinator):
    return client_for(coordinator)


def lab_body(patient, **overrides):
    values = {
        "patient": patient.pk,
        "collected_at": "2025-03-04T08:30:00Z",
        "test_code": "HGB",
        "value": "9.5",
        "unit": "g/dL",
        "lln": "12",
        "uln": "16",
    }
    return {**values, **overrides}


# --- Size and depth (finding 8) ---------------------------------------------------------------


def test_a_body_over_the_limit_gets_413_in_the_error_format(client, patient, settings):
    settings.MAX_REQUEST_BYTES = 10_000
    big = lab_body(patient, comment="x" * 20_000)
    response = client.post("/api/lab-results/", json.dumps(big), content_type="application/json")
    assert response.status_code == 413
    body = response.json()
    assert (body["status"], body["code"]) == (413, "too_large")
    assert "the limit is 10000 bytes" in body["detail"]
    assert not LabResult.objects.exists()


def test_the_default_limit_refuses_thirty_megabytes(client):
    response = client.generic(
        "POST", "/api/lab-results/", b"{}", content_type="application/json",
        CONTENT_LENGTH=str(30 * 1024 * 1024),
    )  # fmt: skip
    assert response.status_code == 413


def test_deeply_nested_json_gets_400_not_500(client, patient):
    nested = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/api/lab-results/", f'{{"patient": {patient.pk}, "x": {nested}}}',
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "too_deep"
    assert body["detail"] == "The JSON body is nested 100001 levels deep; the limit is 32."


def test_depth_ignores_brackets_inside_strings():
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth(b'{"a": "\\"[[[["}') == 1


# --- Plausible dates (finding 9) --------------------------------------------------------------


@pytest.mark.parametrize("birth_date", ["0001-01-01", "1899-12-31", "2999-01-01"])
def test_implausible_birth_dates_are_refused(client, multisite_study, birth_date):
    site = multisite_study.sites.get(code="PKUPH")
    response = client.post(
        "/api/patients/",
        {
            "study": multisite_study.pk,
            "site": site.pk,
            "sex": "F",
            "birth_date": birth_date,
            "height_cm": "165.0",
            "weight_kg": "60.0",
            "screened_on": "2025-01-06",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "birth_date"
    assert not Patient.objects.exists()


def test_implausible_clinical_date_is_refused(client, multisite_study):
    site = multisite_study.sites.get(code="PKUPH")
    response = client.post(
        "/api/patients/",
        {
            "study": multisite_study.pk,
            "site": site.pk,
            "sex": "F",
            "birth_date": "1950-01-01",
            "height_cm": "165.0",
            "weight_kg": "60.0",
            "screened_on": "1985-01-06",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "screened_on",
            "message": "1985-01-06 is not a plausible date: expected from 1990-01-01 to "
            "2100-12-31.",
            "code": "invalid",
        }
    ]
    assert not Patient.objects.exists()


# --- Fields that cannot change (finding 9) ----------------------------------------------------


def test_patch_of_a_labs_patient_is_refused_without_a_trace(
    client, patient, make_patient, multisite_study, coordinator
):
    other = make_patient(multisite_study, "PKUPH", actor=coordinator)
    created = client.post("/api/lab-results/", lab_body(patient), format="json").json()
    response = client.patch(
        f"/api/lab-results/{created['id']}/",
        {"patient": other.pk, "reason": "moved", "version": 1},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "patient",
            "message": "This field cannot be changed once recorded.",
            "code": "read_only",
        }
    ]
    stored = LabResult.objects.get(pk=created["id"])
    assert (stored.patient_id, stored.version, stored.history.count()) == (patient.pk, 1, 1)


def test_patch_of_a_patients_site_is_refused_without_a_trace(client, patient, multisite_study):
    other_site = multisite_study.sites.get(code="BJH")
    response = client.patch(
        f"/api/patients/{patient.pk}/",
        {"site": other_site.pk, "reason": "moved", "version": patient.version},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "site"
    before = patient.history.count()
    patient.refresh_from_db()
    assert (patient.site.code, patient.version, patient.history.count()) == ("PKUPH", 1, before)
