"""Lists an integrator can sync from (issue 11): `updated_since`, voided records only when asked
for, clinical date ranges, codes in any case, patients by subject id, and a 400 listing the
accepted filters or orderings for an unknown one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ecrf.audit import void_audited
from visits.labs.models import LabResult


@pytest.fixture
def client(client_for, superuser):
    return client_for(superuser)


def test_updated_since_lists_what_changed_and_voids_when_asked(
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
    asked = {"patient": patient.pk, "updated_since": since}
    mirror = client.get("/api/lab-results/", {**asked, "include_voided": "true"})
    assert mirror.status_code == 200, mirror.json()
    assert [(r["id"], r["is_voided"]) for r in mirror.json()["results"]] == [(voided.pk, True)]
    # Without include_voided the void is left out like every voided record.
    assert client.get("/api/lab-results/", asked).json()["results"] == []

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
        "Unknown filter; this list accepts: accession, collected_after, collected_before, "
        "ctcae_grade, "
        "format, include_voided, indicator, is_voided, ordering, page, page_size, patient, "
        "range_source, test_code, updated_since, visit."
    )


# --- Voided records: left out unless asked for ---------------------------------------------------


def test_voided_records_are_left_out_unless_asked_for(
    client, superuser, study, make_patient, record_lab
):
    patient = make_patient(study, "PKUPH")
    kept = record_lab(patient, "ALT", "30", "U/L", uln="40")
    gone = record_lab(patient, "AST", "25", "U/L", uln="35")
    void_audited(gone, actor=superuser, reason="Entered twice", expected_version=1)

    def ids(**params):
        response = client.get("/api/lab-results/", {"patient": patient.pk, **params})
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids() == [kept.pk]
    assert ids(include_voided="false") == [kept.pk]
    assert sorted(ids(include_voided="true")) == sorted([kept.pk, gone.pk])
    assert ids(is_voided="true") == [gone.pk]
    assert ids(is_voided="false", include_voided="true") == [kept.pk]

    refused = client.get("/api/lab-results/", {"include_voided": "maybe"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0] == {
        "field": "include_voided",
        "message": "Give true or false.",
        "code": "invalid",
    }


def test_a_voided_patient_is_left_out_of_the_patient_list(client, superuser, study, make_patient):
    kept, gone = make_patient(study, "PKUPH"), make_patient(study, "PKUPH")
    void_audited(gone, actor=superuser, reason="Screened twice", expected_version=1)
    listing = client.get("/api/patients/", {"study": study.pk}).json()
    assert [p["id"] for p in listing["results"]] == [kept.pk]
    every = client.get("/api/patients/", {"study": study.pk, "include_voided": "true"}).json()
    assert sorted(p["id"] for p in every["results"]) == sorted([kept.pk, gone.pk])


# --- Clinical date ranges ------------------------------------------------------------------------


def test_labs_filter_by_collection_time_inclusive(client, study, make_patient, record_lab):
    patient = make_patient(study, "PKUPH")
    early = record_lab(patient, "ALT", "30", "U/L", on=dt.date(2025, 3, 1))  # 08:00Z
    middle = record_lab(patient, "ALT", "31", "U/L", on=dt.date(2025, 3, 2))
    late = record_lab(patient, "ALT", "32", "U/L", on=dt.date(2025, 3, 3))

    def ids(**params):
        response = client.get("/api/lab-results/", {"patient": patient.pk, **params})
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids(collected_after="2025-03-02T08:00:00Z") == [middle.pk, late.pk]
    assert ids(collected_before="2025-03-02T16:00:00+08:00") == [early.pk, middle.pk]
    assert ids(collected_after="2025-03-01T08:00:01Z", collected_before="2025-03-03T07:59:59Z") == [
        middle.pk
    ]
    assert len({early.pk, middle.pk, late.pk}) == 3

    for value in ("2025-03-02T08:00:00", "2025-03-02"):
        naive = client.get("/api/lab-results/", {"collected_after": value})
        assert naive.status_code == 400
        [error] = naive.json()["errors"]
        assert (error["field"], error["code"]) == ("collected_after", "invalid")
        assert error["message"].startswith("Give the UTC offset")


def test_adverse_events_filter_by_onset_date(client, study, make_patient, record_adverse_event):
    patient = make_patient(study, "PKUPH")
    first = record_adverse_event(patient, onset=dt.date(2025, 3, 1))
    second = record_adverse_event(patient, onset=dt.date(2025, 3, 10))

    def ids(**params):
        response = client.get("/api/adverse-events/", {"patient": patient.pk, **params})
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids(onset_after="2025-03-10") == [second.pk]
    assert ids(onset_before="2025-03-09") == [first.pk]
    assert sorted(ids(onset_after="2025-03-01", onset_before="2025-03-10")) == sorted(
        [first.pk, second.pk]
    )
    bad = client.get("/api/adverse-events/", {"onset_after": "2025-03-01T00:00:00Z"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "onset_after"


# Every list of a patient's records: its clinical date range and include_voided, documented.
RECORD_LISTS = {
    "/api/patients/": ("screened_after", "screened_before", "date"),
    "/api/visits/": ("actual_after", "actual_before", "date"),
    "/api/lab-results/": ("collected_after", "collected_before", "date-time"),
    "/api/adverse-events/": ("onset_after", "onset_before", "date"),
    "/api/dose-records/": ("start_after", "start_before", "date"),
    "/api/dose-adjustments/": ("effective_after", "effective_before", "date"),
    "/api/bleeding-assessments/": ("assessed_after", "assessed_before", "date"),
    "/api/rescue-therapies/": ("started_after", "started_before", "date"),
    "/api/ecog-assessments/": ("assessed_after", "assessed_before", "date"),
    "/api/vital-signs/": ("measured_after", "measured_before", "date"),
    "/api/essdai-assessments/": ("assessed_after", "assessed_before", "date"),
    "/api/esspri-assessments/": ("assessed_after", "assessed_before", "date"),
}


def test_the_schema_documents_date_ranges_and_include_voided_on_every_record_list(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path, (after, before, kind) in RECORD_LISTS.items():
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters[after]["schema"] == {"type": "string", "format": kind}, path
        assert parameters[before]["schema"] == {"type": "string", "format": kind}, path
        assert parameters["include_voided"]["schema"] == {"type": "boolean", "default": False}
        assert (
            client.get(
                path, {after: "2025-03-01" if kind == "date" else "2025-03-01T00:00:00Z"}
            ).status_code
            == 200
        ), path
    voidable_lists = sorted(
        path
        for path, operations in schema["paths"].items()
        if "get" in operations
        and "include_voided" in {p["name"] for p in operations["get"].get("parameters", [])}
        and not path.endswith("/history/")
    )
    assert voidable_lists == sorted([*RECORD_LISTS, "/api/ae-drug-assessments/"])


# --- Ordering ------------------------------------------------------------------------------------


def test_an_unknown_ordering_is_a_400_listing_the_accepted_ones(
    client, study, make_patient, record_lab
):
    patient = make_patient(study, "PKUPH")
    first = record_lab(patient, "ALT", "30", "U/L", on=dt.date(2025, 3, 1))
    second = record_lab(patient, "ALT", "31", "U/L", on=dt.date(2025, 3, 2))
    newest_first = client.get(
        "/api/lab-results/", {"patient": patient.pk, "ordering": "-collected_at"}
    ).json()
    assert [r["id"] for r in newest_first["results"]] == [second.pk, first.pk]

    response = client.get("/api/lab-results/", {"ordering": "value,-collected_at"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error == {
        "field": "ordering",
        "message": "Unknown ordering value. This list can be ordered by: collected_at, "
        "created_at, test_code (prefix - for descending).",
        "code": "unknown_ordering",
    }


# --- Codes in any case ---------------------------------------------------------------------------


def test_codes_are_filtered_in_any_case(
    client, multisite_study, make_patient, record_lab, record_adverse_event, place_on_arm
):
    patient = make_patient(multisite_study, "PKUPH")
    other_site = make_patient(multisite_study, "NAVY")
    platelets = record_lab(patient, "PLAT", "42", "10^9/L")
    record_lab(patient, "ALT", "30", "U/L")
    arm = multisite_study.arms.order_by("code").first()
    place_on_arm(patient, arm.code, day1=dt.date(2025, 1, 8))
    event = record_adverse_event(patient, onset=dt.date(2025, 3, 1))

    def ids(path, **params):
        response = client.get(path, params)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids("/api/lab-results/", patient=patient.pk, test_code="plat") == [platelets.pk]
    assert ids("/api/patients/", study=multisite_study.pk, site_code="pkuph") == [patient.pk]
    assert ids("/api/patients/", study=multisite_study.pk, site_code="navy") == [other_site.pk]
    assert ids("/api/patients/", arm=arm.code.lower()) == [patient.pk]
    assert ids("/api/patients/", subject_id=patient.subject_id.lower()) == [patient.pk]
    meddra = event.term.meddra_code
    assert ids("/api/adverse-events/", term=meddra) == [event.pk]
    assert ids("/api/adverse-events/", term="BRUISING") == [event.pk]
    assert ids("/api/adverse-events/", term="Anemia") == []
