"""Dose records through the API: validation, overlaps, versions, voids, scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from trials.models import Study
from visits.dosing.models import DoseRecord

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = timezone.localdate()
DAY1 = TODAY - dt.timedelta(days=30)


def days(n: int) -> str:
    """Study day n + 1 as an ISO date (days(0) is day 1)."""
    return str(DAY1 + dt.timedelta(days=n))


@pytest.fixture
def tac_dan_study():
    return Study.objects.get(registry_id="NCT05471050")


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT05471050", ["PKUPH"])


@pytest.fixture
def client(client_for, coordinator):
    return client_for(coordinator)


@pytest.fixture
def patient(tac_dan_study, make_patient, place_on_arm):
    return place_on_arm(make_patient(tac_dan_study, "PKUPH"), "TAC_DAN", day1=DAY1)


def tacrolimus(for_patient, **overrides) -> dict:
    body = {
        "patient": for_patient.pk,
        "drug": "tacrolimus",
        "start_date": days(0),
        "dose_mg": "1.0",
        "frequency": "bid",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post_record(client, body) -> dict:
    response = client.post("/api/dose-records/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_dose_record_stores_the_daily_dose(client, patient):
    body = post_record(client, tacrolimus(patient, note="Started"))

    assert (body["drug"], body["regimen"], body["dose_mg"], body["daily_mg"]) == (
        "tacrolimus",
        "TAC_DAN_tacrolimus",
        "1.000",
        "2.000",
    )
    assert (body["end_date"], body["given"], body["note"], body["version"]) == (
        None,
        True,
        "Started",
        1,
    )
    assert client.get(f"/api/dose-records/?patient={patient.pk}").json()["count"] == 1


def test_the_drug_is_matched_without_regard_to_case(client, patient):
    assert post_record(client, tacrolimus(patient, drug="Tacrolimus"))["drug"] == "tacrolimus"


def test_a_hold_is_a_record_not_given(client, patient):
    body = post_record(client, tacrolimus(patient, given=False, dose_mg="0"))

    assert (body["given"], body["daily_mg"]) == (False, "0.000")


def test_a_single_infusion_ends_on_its_day(make_patient, place_on_arm, make_user, client_for):
    study = Study.objects.get(registry_id="NCT03304288")
    patient = place_on_arm(make_patient(study, "PKUPH"), "RTX", day1=DAY1)
    client = client_for(make_user("ivy", "investigator", "NCT03304288"))
    body = {
        "patient": patient.pk,
        "drug": "rituximab",
        "start_date": days(0),
        "dose_mg": "100",
        "frequency": "once",
    }

    record = post_record(client, body)

    assert (record["start_date"], record["end_date"], record["daily_mg"]) == (
        days(0),
        days(0),
        "100.000",
    )


FUTURE = str(TODAY + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"drug": "rituximab"}, "drug"),  # a drug of the study, not of the TAC_DAN arm
        ({"drug": "aspirin"}, "drug"),
        ({"dose_mg": "-1.0"}, "dose_mg"),
        ({"dose_mg": "0"}, "dose_mg"),  # a given dose is above zero; holds say given=false
        ({"dose_mg": "abc"}, "dose_mg"),
        ({"start_date": FUTURE}, "start_date"),
        ({"end_date": FUTURE}, "end_date"),
        ({"start_date": days(5), "end_date": days(4)}, "end_date"),
        ({"start_date": days(-1)}, "start_date"),  # before day 1
        ({"start_date": None}, "start_date"),
        ({"frequency": "hourly"}, "frequency"),
        ({"frequency": "once", "end_date": days(3)}, "end_date"),
        ({"patient": 999999}, "patient"),
    ],
)
def test_invalid_dose_records_are_refused_naming_the_field(client, patient, overrides, field):
    response = client.post("/api/dose-records/", tacrolimus(patient, **overrides), format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == field
    assert not DoseRecord.objects.exists()


def test_a_dose_for_an_unrandomized_patient_is_refused(client, tac_dan_study, make_patient):
    screened = make_patient(tac_dan_study, "PKUPH")

    response = client.post("/api/dose-records/", tacrolimus(screened), format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "patient",
        "message": "The patient is not randomized or enrolled yet (no arm and day 1): no doses.",
        "code": "invalid",
    }
    assert not DoseRecord.objects.exists()


def test_a_patient_of_another_site_is_unknown(make_patient, place_on_arm, make_user, client_for):
    study = Study.objects.get(registry_id="NCT03304288")
    foreign = place_on_arm(make_patient(study, "NAVY"), "RTX", day1=DAY1)
    client = client_for(make_user("cora", "coordinator", "NCT03304288", ["PKUPH"]))
    body = {
        "patient": foreign.pk,
        "drug": "rituximab",
        "start_date": days(0),
        "dose_mg": "100",
        "frequency": "once",
    }

    response = client.post("/api/dose-records/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "patient",
        "message": "Unknown patient.",
        "code": "invalid",
    }
    assert not DoseRecord.objects.exists()


def test_a_monitor_may_not_enter_doses(patient, make_user, client_for):
    monitor = client_for(make_user("mona", "monitor", "NCT05471050"))

    response = monitor.post("/api/dose-records/", tacrolimus(patient), format="json")

    assert response.status_code == 403
    assert not DoseRecord.objects.exists()


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        ((0, None), (10, None)),  # an ongoing record covers every later day
        ((0, 9), (9, None)),  # the last day of one is the first of the other
        ((5, 9), (0, 5)),
        ((5, 9), (6, 7)),
        ((5, 9), (0, None)),
    ],
)
def test_records_of_one_drug_may_not_overlap(client, patient, existing, new):
    first = {"start_date": days(existing[0]), "end_date": existing[1] and days(existing[1])}
    stored = post_record(client, tacrolimus(patient, **first))
    second = {"start_date": days(new[0]), "end_date": new[1] and days(new[1])}

    response = client.post("/api/dose-records/", tacrolimus(patient, **second), format="json")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "start_date"
    assert f"(id {stored['id']})" in error["message"]
    assert DoseRecord.objects.count() == 1


def test_records_of_different_drugs_and_adjacent_periods_are_fine(client, patient):
    post_record(client, tacrolimus(patient, end_date=days(9)))
    post_record(client, tacrolimus(patient, start_date=days(10), dose_mg="1.5"))
    post_record(client, tacrolimus(patient, drug="danazol", dose_mg="200"))

    assert DoseRecord.objects.count() == 3


def test_a_voided_record_no_longer_blocks_its_days(client, patient):
    stored = post_record(client, tacrolimus(patient))
    voided = client.delete(
        f"/api/dose-records/{stored['id']}/",
        {"reason": "Entered for the wrong patient", "version": 1},
        format="json",
    )
    assert voided.status_code == 200
    assert voided.json()["is_voided"] is True

    post_record(client, tacrolimus(patient))

    assert DoseRecord.objects.filter(is_voided=False).count() == 1


def test_closing_a_record_is_a_versioned_audited_update(client, patient):
    stored = post_record(client, tacrolimus(patient))

    closed = client.patch(
        f"/api/dose-records/{stored['id']}/",
        {"end_date": days(13), "reason": "Stopped by the investigator", "version": 1},
        format="json",
    )

    assert closed.status_code == 200, closed.json()
    assert (closed.json()["end_date"], closed.json()["version"]) == (days(13), 2)
    history = client.get(f"/api/dose-records/{stored['id']}/history/").json()["results"]
    assert [entry["type"] for entry in history] == ["created", "changed"]
    assert history[1]["reason"] == "Stopped by the investigator"
    assert history[1]["changes"] == [{"field": "end_date", "old": None, "new": days(13)}]


def test_a_changed_dose_recomputes_the_daily_dose(client, patient):
    stored = post_record(client, tacrolimus(patient))

    changed = client.patch(
        f"/api/dose-records/{stored['id']}/",
        {"dose_mg": "1.5", "reason": "Transcription error", "version": 1},
        format="json",
    )

    assert changed.json()["daily_mg"] == "3.000"


def test_a_stale_version_is_a_conflict_and_changes_nothing(client, patient):
    stored = post_record(client, tacrolimus(patient))
    url = f"/api/dose-records/{stored['id']}/"
    client.patch(url, {"note": "first edit", "reason": "r", "version": 1}, format="json")

    stale = client.patch(
        url, {"dose_mg": "2.0", "reason": "second edit"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "version"
    record = DoseRecord.objects.get()
    assert (record.dose_mg, record.note, record.version) == (D("1.000"), "first edit", 2)


def test_an_update_that_would_overlap_is_refused(client, patient):
    post_record(client, tacrolimus(patient, end_date=days(9)))
    later = post_record(client, tacrolimus(patient, start_date=days(10)))

    response = client.patch(
        f"/api/dose-records/{later['id']}/",
        {"start_date": days(8), "reason": "Started earlier", "version": 1},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "start_date"
    assert DoseRecord.objects.get(pk=later["id"]).start_date == DAY1 + dt.timedelta(days=10)


def test_records_outside_the_users_sites_do_not_exist(
    make_patient, place_on_arm, make_user, client_for
):
    study = Study.objects.get(registry_id="NCT03304288")
    foreign = place_on_arm(make_patient(study, "NAVY"), "RTX", day1=DAY1)
    navy = client_for(make_user("nina", "coordinator", "NCT03304288", ["NAVY"]))
    body = {
        "patient": foreign.pk,
        "drug": "rituximab",
        "start_date": days(0),
        "dose_mg": "100",
        "frequency": "once",
    }
    stored = post_record(navy, body)
    pkuph = client_for(make_user("cora2", "coordinator", "NCT03304288", ["PKUPH"]))

    assert pkuph.get("/api/dose-records/").json()["count"] == 0
    assert pkuph.get(f"/api/dose-records/{stored['id']}/").status_code == 404
    patch = pkuph.patch(
        f"/api/dose-records/{stored['id']}/",
        {"dose_mg": "1", "reason": "x", "version": 1},
        format="json",
    )
    assert patch.status_code == 404
    assert DoseRecord.objects.get().dose_mg == D("100.000")
