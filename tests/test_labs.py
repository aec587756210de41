"""Lab results through the API: conversion, range, indicator, ×ULN, CTCAE suggestion, checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ecrf.audit import save_audited
from tests.diagnosis_support import screening_diagnosis
from trials.models import Study
from visits.labs.models import LabResult
from visits.labs.services import REGRADE_REASON
from visits.models import Visit

pytestmark = pytest.mark.django_db

ALL_STUDIES = ["NCT05471050", "NCT03918265", "NCT03304288", "NCT05694130"]


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def patient(multisite_study, make_patient, coordinator):
    return make_patient(multisite_study, "PKUPH", actor=coordinator)


@pytest.fixture
def client(client_for, coordinator):
    return client_for(coordinator)


def body(patient, /, **overrides):
    values = {
        "patient": patient.pk,
        "collected_at": "2025-03-04T08:30:00Z",
        "test_code": "HGB",
        "value": "9.5",
        "unit": "g/dL",
        "lln": "12",
        "uln": "16",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def post(client, patient, /, **overrides):
    return client.post("/api/lab-results/", body(patient, **overrides), format="json")


def make_visit(patient, code="U1", number=1, day=dt.date(2025, 3, 4)):
    visit = Visit(
        patient=patient,
        code=code,
        unscheduled_number=number,
        actual_date=day,
        status="completed",
    )
    return save_audited(visit, actor=None, reason="test visit")


def set_day1(patient, day1: dt.date):
    """Randomization is someone else's API; tests set the outcome directly (audited)."""
    patient.day1 = day1
    patient.status = "randomized"
    patient.version += 1
    return save_audited(patient, actor=None, reason="test: randomized")


# --- Conversion, range, indicator, ×ULN, suggestion -------------------------------------------

CONVERSIONS = [
    # test, value, unit, lln, uln → value_std, unit_std, lln_std, uln_std, ×ULN, indicator
    ("HGB", "9.5", "g/dL", "12", "16", "95", "g/L", "120", "160", "0.5938", "LOW"),
    ("HGB", "95", "g/L", "120", "160", "95", "g/L", "120", "160", "0.5938", "LOW"),
    ("CREAT", "1.2", "mg/dL", "0.6", "1.1", "106.104", "umol/L", "53.052", "97.262", "1.0909",
     "HIGH"),
    ("BILI", "2", "mg/dL", "0.2", "1.2", "34.2", "umol/L", "3.42", "20.52", "1.6667", "HIGH"),
    ("PLAT", "3.5", "10³/µL", "150", "400", "3.5", "10^9/L", "150", "400", "0.0088", "LOW"),
    ("WBC", "3500", "/µL", "4000", "10000", "3.5", "10^9/L", "4", "10", "0.35", "LOW"),
    ("ALT", "35", "IU/L", "0", "40", "35", "U/L", "0", "40", "0.875", "NORMAL"),
    ("GLUC", "90", "mg/dL", "70", "100", "4.9956", "mmol/L", "3.8854", "5.5506", "0.9", "NORMAL"),
    ("TACRO", "4.2", "µg/L", None, None, "4.2", "ng/mL", None, None, None, None),
]  # fmt: skip


@pytest.mark.parametrize(
    "test_code,value,unit,lln,uln,value_std,unit_std,lln_std,uln_std,times_uln,indicator",
    CONVERSIONS,
)
def test_result_is_stored_with_standard_values_and_range_indicator(
    client, patient, test_code, value, unit, lln, uln, value_std, unit_std, lln_std, uln_std,
    times_uln, indicator,
):  # fmt: skip
    response = post(client, patient, test_code=test_code, value=value, unit=unit, lln=lln, uln=uln)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["value_std"], data["unit_std"]) == (value_std, unit_std)
    assert (data["lln_std"], data["uln_std"]) == (lln_std, uln_std)
    assert data["times_uln"] == times_uln
    assert data["indicator"] == indicator
    assert data["range_source"] == ("result" if lln else "")


SUGGESTIONS = [
    # test, value, unit, lln, uln → ctcae (term, grade) or None
    ("HGB", "9.5", "g/dL", "12", "16", ("Anemia", 2)),
    ("HGB", "13", "g/dL", "12", "16", ("Anemia", 0)),
    ("CREAT", "1.2", "mg/dL", "0.6", "1.1", ("Creatinine increased", 1)),
    ("BILI", "2", "mg/dL", "0.2", "1.2", ("Blood bilirubin increased", 2)),
    ("ALT", "130", "U/L", "0", "40", ("Alanine aminotransferase increased", 2)),
    ("K", "6.5", "mmol/L", "3.5", "5.1", ("Hyperkalemia", 3)),
    ("GLUC", "15", "mmol/L", "3.9", "5.6", ("Hyperglycemia", None)),
    ("TACRO", "4.2", "ng/mL", None, None, None),
    ("LDH", "900", "U/L", "100", "250", None),
]


@pytest.mark.parametrize("test_code,value,unit,lln,uln,expected", SUGGESTIONS)
def test_response_carries_the_ctcae_suggestion(
    client, patient, test_code, value, unit, lln, uln, expected
):
    response = post(client, patient, test_code=test_code, value=value, unit=unit, lln=lln, uln=uln)
    assert response.status_code == 201, response.json()
    ctcae = response.json()["ctcae"]
    if expected is None:
        assert ctcae is None
        assert response.json()["ctcae_note"].startswith("Not graded: no CTCAE v5.0 lab criterion")
    else:
        assert (ctcae["term"], ctcae["grade"]) == expected


def test_missing_range_stores_the_result_without_a_grade_and_says_why(client, patient):
    response = post(client, patient, test_code="HGB", value="11", unit="g/dL", lln=None, uln=None)
    assert response.status_code == 201
    data = response.json()
    assert (data["ctcae"], data["range_source"], data["indicator"]) == (None, "", None)
    assert data["ctcae_note"] == "Not graded: Anemia: grading this value needs the LLN."


def test_protocol_excluded_term_is_never_suggested(client_for, make_user, make_patient, study):
    # NCT05471050 (ITP) excludes "Platelet count decreased": thrombocytopenia is the disease.
    user = make_user("ida", "investigator", "NCT05471050")
    patient = make_patient(study, "PKUPH", actor=user)
    response = post(
        client_for(user), patient, test_code="PLAT", value="20", unit="10^9/L", lln="150", uln="400"
    )
    assert response.status_code == 201
    data = response.json()
    assert data["ctcae"] is None
    assert data["ctcae_note"] == (
        "'Platelet count decreased' is excluded from suggestions by protocol NCT05471050 v2 "
        "(disease under study)."
    )
    assert data["indicator"] == "LOW"


def test_same_platelet_count_is_suggested_where_the_protocol_does_not_exclude_it(
    client_for, make_user, make_patient
):
    aiha = Study.objects.get(registry_id="NCT03918265")
    user = make_user("ivo", "investigator", "NCT03918265")
    patient = make_patient(aiha, "PUMCH", actor=user, diagnosis="AIHA")
    response = post(
        client_for(user), patient, test_code="PLAT", value="20", unit="10^9/L", lln="150", uln="400"
    )
    assert response.json()["ctcae"] == {
        "term": "Platelet count decreased",
        "meddra_code": "10035528",
        "grade": 4,
        "basis": "<25 ×10⁹/L",
    }


@pytest.mark.parametrize("registry_id", ALL_STUDIES)
def test_every_study_takes_lab_results(client_for, make_user, make_patient, registry_id):
    study = Study.objects.get(registry_id=registry_id)
    site = study.sites.order_by("code").first()
    user = make_user(f"dm-{registry_id}", "data_manager", registry_id, [site.code])
    patient = make_patient(study, site.code, actor=user, **screening_diagnosis(study))
    response = post(
        client_for(user), patient, test_code="ALT", value="100", unit="U/L", lln="7", uln="40"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["ctcae"]["grade"] == 1
    assert LabResult.objects.filter(patient=patient).count() == 1


# --- Baseline (abnormal-baseline rule) ----------------------------------------------------------


def test_abnormal_baseline_before_day1_changes_the_grade(client, patient):
    set_day1(patient, dt.date(2025, 2, 1))
    baseline = post(client, patient, test_code="ALT", value="80", unit="U/L", lln="0", uln="40",
                    collected_at="2025-01-20T08:00:00Z")  # fmt: skip
    later = post(client, patient, test_code="ALT", value="130", unit="U/L", lln="0", uln="40",
                 collected_at="2025-03-01T08:00:00Z")  # fmt: skip
    # 130 U/L is > 3×ULN (grade 2 by the ULN), but only 1.6× the abnormal baseline of 80.
    assert baseline.json()["ctcae"]["grade"] == 1
    assert later.json()["ctcae"] == {
        "term": "Alanine aminotransferase increased",
        "meddra_code": "10001551",
        "grade": 1,
        "basis": "1.5-3×baseline",
    }
    assert later.json()["baseline_result"] == baseline.json()["id"]


def test_baseline_entered_late_regrades_the_later_result_with_an_audited_update(client, patient):
    set_day1(patient, dt.date(2025, 2, 1))
    later = post(client, patient, test_code="ALT", value="130", unit="U/L", lln="0", uln="40",
                 collected_at="2025-03-01T08:00:00Z").json()  # fmt: skip
    assert (later["ctcae"]["grade"], later["baseline_result"]) == (2, None)

    post(client, patient, test_code="ALT", value="80", unit="U/L", lln="0", uln="40",
         collected_at="2025-01-20T08:00:00Z")  # fmt: skip

    regraded = client.get(f"/api/lab-results/{later['id']}/").json()
    assert (regraded["ctcae"]["grade"], regraded["version"]) == (1, 2)
    history = client.get(f"/api/lab-results/{later['id']}/history/").json()["results"]
    assert [e["reason"] for e in history] == ["Lab result entered", REGRADE_REASON]


def test_without_day1_the_earliest_result_is_the_baseline(client, patient):
    first = post(client, patient, test_code="ALT", value="80", unit="U/L", lln="0", uln="40",
                 collected_at="2025-01-20T08:00:00Z").json()  # fmt: skip
    second = post(client, patient, test_code="ALT", value="100", unit="U/L", lln="0", uln="40",
                  collected_at="2025-02-20T08:00:00Z").json()  # fmt: skip
    assert second["baseline_result"] == first["id"]
    assert second["ctcae"]["grade"] == 0  # 1.25× an abnormal baseline: short of grade 1


def test_voiding_the_baseline_regrades_the_results_that_used_it(client, patient):
    first = post(client, patient, test_code="ALT", value="80", unit="U/L", lln="0", uln="40",
                 collected_at="2025-01-20T08:00:00Z").json()  # fmt: skip
    second = post(client, patient, test_code="ALT", value="130", unit="U/L", lln="0", uln="40",
                  collected_at="2025-02-20T08:00:00Z").json()  # fmt: skip
    assert second["ctcae"]["grade"] == 1
    response = client.delete(
        f"/api/lab-results/{first['id']}/", {"reason": "wrong patient", "version": 1}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["is_voided"] is True
    regraded = client.get(f"/api/lab-results/{second['id']}/").json()
    assert (regraded["ctcae"]["grade"], regraded["baseline_result"]) == (2, None)


# --- Reading -------------------------------------------------------------------------------------


def test_list_is_paged_filterable_and_takes_a_bounded_number_of_queries(
    client, patient, django_assert_max_num_queries
):
    for day in range(1, 11):
        post(client, patient, collected_at=f"2025-03-{day:02d}T08:00:00Z")
    post(client, patient, test_code="PLAT", value="100", unit="10^9/L")
    with django_assert_max_num_queries(8):
        listing = client.get("/api/lab-results/", {"test_code": "HGB", "patient": patient.pk})
    assert listing.status_code == 200
    assert listing.json()["count"] == 10
    assert {r["subject_id"] for r in listing.json()["results"]} == {patient.subject_id}


def test_detail_carries_an_etag_with_the_version(client, patient):
    created = post(client, patient)
    assert created["ETag"] == '"1"'
    detail = client.get(f"/api/lab-results/{created.json()['id']}/")
    assert detail["ETag"] == '"1"'


# --- Corrections and concurrency ------------------------------------------------------------------


def test_correction_with_if_match_rederives_and_is_audited(client, patient):
    created = post(client, patient).json()
    response = client.patch(
        f"/api/lab-results/{created['id']}/",
        {"value": "7.5", "reason": "Transcription error"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["value"], data["value_std"], data["version"]) == ("7.5", "75", 2)
    assert data["ctcae"]["grade"] == 3
    assert response["ETag"] == '"2"'
    history = client.get(f"/api/lab-results/{created['id']}/history/").json()["results"]
    assert history[-1]["reason"] == "Transcription error"
    assert {"field": "value", "old": "9.5", "new": "7.5"} in history[-1]["changes"]


def test_stale_version_is_a_conflict_and_changes_nothing(client, patient):
    created = post(client, patient).json()
    url = f"/api/lab-results/{created['id']}/"
    assert (
        client.patch(url, {"value": "8", "reason": "a", "version": 1}, format="json").status_code
        == 200
    )
    stale = client.patch(url, {"value": "7", "reason": "b"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "version"
    result = LabResult.objects.get(pk=created["id"])
    assert (result.value, result.version, result.history.count()) == (8, 2, 2)


def test_correction_is_checked_like_an_entry(client, patient):
    created = post(client, patient).json()
    response = client.patch(
        f"/api/lab-results/{created['id']}/",
        {"value": "-3", "reason": "typo", "version": 1},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "value"
    assert LabResult.objects.get(pk=created["id"]).version == 1


# --- Bad input: a clear 400 naming the field, nothing stored -----------------------------------

BAD_INPUT = [
    ({"test_code": "XYZ"}, "test_code"),
    ({"unit": "furlongs"}, "unit"),
    ({"test_code": "PLAT", "unit": "g/dL"}, "unit"),
    ({"value": "-1"}, "value"),
    ({"test_code": "PLAT", "value": "150000", "unit": "10^9/L", "lln": None, "uln": None}, "value"),
    ({"value": "abc"}, "value"),
    ({"value": None}, "value"),
    ({"lln": "16", "uln": "12"}, "lln"),
    ({"uln": "0", "lln": None}, "uln"),
    ({"lln": "-1"}, "lln"),
    ({"collected_at": "2999-01-01T00:00:00Z"}, "collected_at"),
    ({"collected_at": "1979-01-01T00:00:00Z"}, "collected_at"),
    ({"collected_at": "2025-03-04"}, "collected_at"),
    ({"patient": 999999}, "patient"),
]


@pytest.mark.parametrize("overrides,field", BAD_INPUT)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(client, patient, overrides, field):
    response = post(client, patient, **overrides)
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not LabResult.objects.exists()


def test_future_collection_within_clock_skew_is_accepted(client, patient):
    soon = (timezone.now() + dt.timedelta(minutes=1)).isoformat()
    assert post(client, patient, collected_at=soon).status_code == 201


def test_foreign_patient_is_unknown(client, multisite_study, make_patient):
    other_site = make_patient(multisite_study, "NAVY")
    response = post(client, other_site)
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "patient", "message": "Unknown patient.", "code": "invalid"
    }  # fmt: skip
    assert not LabResult.objects.exists()


def test_visit_of_another_patient_is_refused(client, patient, multisite_study, make_patient):
    other = make_patient(multisite_study, "PKUPH")
    response = post(client, patient, visit=make_visit(other).pk)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "visit"
    assert not LabResult.objects.exists()


def test_result_can_be_attached_to_the_patients_visit(client, patient):
    visit = make_visit(patient)
    response = post(client, patient, visit=visit.pk)
    assert response.status_code == 201
    assert (response.json()["visit"], response.json()["visit_code"]) == (visit.pk, "U1")


def test_monitor_cannot_enter_results(client_for, make_user, patient):
    monitor = make_user("mo", "monitor", "NCT03304288", ["PKUPH"])
    response = post(client_for(monitor), patient)
    assert response.status_code == 403
    assert not LabResult.objects.exists()


def test_results_of_other_sites_are_invisible(
    client, client_for, make_user, multisite_study, make_patient
):
    navy_user = make_user("nav", "coordinator", "NCT03304288", ["NAVY"])
    navy_patient = make_patient(multisite_study, "NAVY", actor=navy_user)
    created = post(client_for(navy_user), navy_patient).json()
    assert client.get(f"/api/lab-results/{created['id']}/").status_code == 404
    assert client.get("/api/lab-results/").json()["count"] == 0


def test_a_resent_accession_is_answered_with_the_stored_result(client, patient):
    first = post(client, patient, accession="ACC-1")
    assert first.status_code == 201, first.json()
    assert first.json()["accession"] == "ACC-1"
    resent = post(client, patient, accession="ACC-1")
    assert resent.status_code == 200
    assert resent.json() == first.json()
    assert LabResult.objects.get().source_accession == "ACC-1"
    # One accession may cover a panel: another test under it is another result.
    platelets = post(
        client,
        patient,
        accession="ACC-1",
        test_code="PLAT",
        value="42",
        unit="10^9/L",
        lln="100",
        uln="300",
    )
    assert platelets.status_code == 201, platelets.json()
    assert LabResult.objects.count() == 2
    listed = client.get("/api/lab-results/", {"accession": "acc-1", "test_code": "HGB"}).json()
    assert [r["id"] for r in listed["results"]] == [first.json()["id"]]


def test_an_accession_stored_with_other_content_is_a_409_naming_the_result(
    client, patient, coordinator
):
    stored = post(client, patient, accession="ACC-1").json()["id"]
    again = post(client, patient, accession="ACC-1", value="10")
    assert again.status_code == 409
    assert again.json()["errors"] == [
        {
            "field": "accession",
            "message": f"Accession ACC-1 is already stored for HGB of this patient as result "
            f"{stored} with other content; correct result {stored} with a reason instead.",
            "code": "duplicate_accession",
        }
    ]
    client.delete(f"/api/lab-results/{stored}/?reason=Wrong%20patient&version=1")
    voided = post(client, patient, accession="ACC-1")
    assert voided.status_code == 409
    assert f"as result {stored} (voided);" in voided.json()["errors"][0]["message"]
    assert list(LabResult.objects.values_list("pk", "value")) == [(stored, Decimal("9.5"))]


def test_a_collection_time_without_offset_is_refused_naming_the_field(client, patient):
    naive = post(client, patient, collected_at="2025-03-04T08:30:00")
    assert naive.status_code == 400
    assert naive.json()["errors"] == [
        {
            "field": "collected_at",
            "message": "Give the UTC offset (e.g. 2025-03-04T08:30:00+08:00 or ...T00:30:00Z).",
            "code": "naive",
        }
    ]
    beijing = post(client, patient, collected_at="2025-03-04T08:30:00+08:00")
    assert beijing.status_code == 201, beijing.json()
    assert beijing.json()["collected_at"] == "2025-03-04T00:30:00Z"


def test_an_impossible_collection_time_is_a_400_naming_the_field(client, patient):
    # Well formed but impossible (minute 99): found by schemathesis as a 500.
    impossible = post(client, patient, collected_at="2024-01-01T12:99:00Z")
    assert impossible.status_code == 400
    assert [(e["field"], e["code"]) for e in impossible.json()["errors"]] == [
        ("collected_at", "invalid")
    ]
    assert not LabResult.objects.exists()
