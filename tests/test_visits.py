"""Visit calendars: schedule from the protocol, derived status, recording, deviations,
corrections and unscheduled visits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patients.models import Patient
from patients.randomization import patient_randomize
from visits.models import Visit
from visits.selectors import visit_display_status

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY1 = dt.date(2025, 1, 10)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def coordinator(make_user):
    return make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])


@pytest.fixture
def data_manager(make_user):
    return make_user("dana", "data_manager", "NCT03304288")


@pytest.fixture
def allocate(multisite_study, make_patient, screen_eligible, allocation_list, data_manager):
    allocation_list(multisite_study)

    def make(day1: dt.date = DAY1) -> Patient:
        patient = screen_eligible(make_patient(multisite_study, "PKUPH"))
        patient_randomize(actor=data_manager, patient=patient, randomized_at=day1)
        patient.refresh_from_db()
        return patient

    return make


def calendar(client, patient):
    response = client.get(f"/api/patients/{patient.pk}/visits/")
    assert response.status_code == 200
    return response.json()


def test_nct03304288_schedule_follows_the_protocol_text(client_for, coordinator, allocate):
    """Weekly for 4 weeks, every 2 weeks for the following 5 months, monthly to 1 year."""
    visits = calendar(client_for(coordinator), allocate())
    offsets = [(v["code"], (dt.date.fromisoformat(v["target_date"]) - DAY1).days) for v in visits]
    assert offsets == [
        ("D1", 0),
        *[(f"W{w}", 7 * w) for w in (1, 2, 3, 4)],
        *[(f"W{w}", 7 * w) for w in range(6, 27, 2)],
        *[(f"M{m}", 30 * m) for m in range(7, 13)],
    ]
    windows = {
        v["code"]: (
            (
                dt.date.fromisoformat(v["target_date"]) - dt.date.fromisoformat(v["window_start"])
            ).days,
            (dt.date.fromisoformat(v["window_end"]) - dt.date.fromisoformat(v["target_date"])).days,
        )
        for v in visits
    }
    assert (windows["D1"], windows["W4"], windows["W26"], windows["M12"]) == (
        (0, 0),
        (2, 2),
        (3, 3),
        (7, 7),
    )
    assert visits[1] == {
        **visits[1],
        "code": "W1",
        "name": "Week 1",
        "target_date": "2025-01-17",
        "window_start": "2025-01-15",
        "window_end": "2025-01-19",
        "actual_date": None,
        "unscheduled": False,
    }


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2025, 1, 14), "scheduled"),  # W1 window opens on the 15th
        (dt.date(2025, 1, 15), "due"),
        (dt.date(2025, 1, 19), "due"),
        (dt.date(2025, 1, 20), "overdue"),
    ],
)
def test_status_of_a_visit_not_recorded_depends_on_today(allocate, today, expected):
    week1 = Visit.objects.get(patient=allocate(), code="W1")
    assert visit_display_status(week1, today).value == expected


def test_calendar_shows_today_s_statuses(client_for, coordinator, allocate):
    patient = allocate(TODAY - days(20))
    client = client_for(coordinator)
    day1 = Visit.objects.get(patient=patient, code="D1")
    record(client, day1, status="completed", actual_date=(TODAY - days(20)).isoformat())
    week1 = Visit.objects.get(patient=patient, code="W1")
    record(client, week1, status="missed")
    statuses = {v["code"]: v["status"] for v in calendar(client, patient)}
    assert [statuses[c] for c in ("D1", "W1", "W2", "W3", "W4")] == [
        "completed",
        "missed",
        "overdue",  # window day 14 ± 2 closed on day 16
        "due",  # day 21 ± 2: today is day 20
        "scheduled",
    ]


def record(client, visit, **body):
    return client.post(f"/api/visits/{visit.pk}/record/", body, format="json")


def test_recording_a_visit_in_its_window(client_for, coordinator, allocate):
    week1 = Visit.objects.get(patient=allocate(), code="W1")
    response = record(client_for(coordinator), week1, status="completed", actual_date="2025-01-18")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["actual_date"], body["out_of_window"], body["recorded_by"]) == (
        "completed",
        "2025-01-18",
        False,
        "cora",
    )
    assert week1.history.first().history_change_reason == "Visit recorded completed"


def test_a_visit_outside_its_window_is_accepted_and_flagged_as_a_deviation(
    client_for, coordinator, allocate
):
    week1 = Visit.objects.get(patient=allocate(), code="W1")
    response = record(client_for(coordinator), week1, status="completed", actual_date="2025-01-22")
    assert response.status_code == 200
    assert (response.json()["out_of_window"], response.json()["protocol_deviation"]) == (True, True)
    assert week1.history.first().history_change_reason == (
        "Visit recorded completed outside its window (protocol deviation)"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "completed"}, "actual_date"),
        ({"status": "completed", "actual_date": "TOMORROW"}, "actual_date"),
        ({"status": "completed", "actual_date": "2025-01-09"}, "actual_date"),  # before day 1
        ({"status": "missed", "actual_date": "2025-01-18"}, "actual_date"),
        ({"status": "scheduled"}, "status"),
        ({"actual_date": "2025-01-18"}, "status"),
    ],
)
def test_bad_recordings_are_a_400_and_change_nothing(
    client_for, coordinator, allocate, body, field
):
    if body.get("actual_date") == "TOMORROW":
        body = {**body, "actual_date": (TODAY + days(1)).isoformat()}
    week1 = Visit.objects.get(patient=allocate(), code="W1")
    response = record(client_for(coordinator), week1, **body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    week1.refresh_from_db()
    assert (week1.status, week1.actual_date, week1.version) == ("scheduled", None, 1)


def test_a_recorded_visit_is_corrected_with_reason_and_version(client_for, coordinator, allocate):
    client = client_for(coordinator)
    week1 = Visit.objects.get(patient=allocate(), code="W1")
    record(client, week1, status="completed", actual_date="2025-01-18")
    assert record(client, week1, status="missed").status_code == 409

    url = f"/api/visits/{week1.pk}/"
    no_reason = client.patch(url, {"actual_date": "2025-01-21", "version": 2}, format="json")
    assert (no_reason.status_code, no_reason.json()["errors"][0]["field"]) == (400, "reason")
    stale = client.patch(url, {"actual_date": "2025-01-21", "reason": "x", "version": 1})
    assert stale.status_code == 409
    week1.refresh_from_db()
    assert (week1.actual_date, week1.version) == (dt.date(2025, 1, 18), 2)

    response = client.patch(
        url, {"actual_date": "2025-01-21", "reason": "date misread", "version": 2}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["actual_date"], response.json()["out_of_window"]) == (
        "2025-01-21",
        True,
    )
    history = client.get(f"/api/visits/{week1.pk}/history/").json()["results"]
    assert history[-1]["reason"] == "date misread"
    assert {"field": "actual_date", "old": "2025-01-18", "new": "2025-01-21"} in history[-1][
        "changes"
    ]


def test_unscheduled_visits_are_numbered_and_numbers_are_not_reused(
    client_for, coordinator, allocate
):
    patient = allocate()
    client = client_for(coordinator)
    url = f"/api/patients/{patient.pk}/unscheduled-visits/"
    first = client.post(url, {"actual_date": "2025-01-12", "notes": "bleeding"}, format="json")
    second = client.post(url, {"actual_date": "2025-01-13"}, format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert [first.json()["code"], second.json()["code"]] == ["U1", "U2"]
    assert (first.json()["status"], first.json()["unscheduled"], first.json()["target_date"]) == (
        "completed",
        True,
        None,
    )
    voided = client.delete(
        f"/api/visits/{second.json()['id']}/", {"reason": "entered twice", "version": 1}
    )
    assert voided.status_code == 200
    third = client.post(url, {"actual_date": "2025-01-14"}, format="json")
    assert third.json()["code"] == "U3"
    codes = [v["code"] for v in calendar(client, patient)]
    assert codes[:5] == ["D1", "U1", "U3", "W1", "W2"]  # in date order, voided left out


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "actual_date"),
        ({"actual_date": "TOMORROW"}, "actual_date"),
        ({"actual_date": "2025-01-01"}, "actual_date"),
    ],
)
def test_bad_unscheduled_visits_are_refused(client_for, coordinator, allocate, body, field):
    if body.get("actual_date") == "TOMORROW":
        body = {"actual_date": (TODAY + days(1)).isoformat()}
    patient = allocate()
    response = client_for(coordinator).post(
        f"/api/patients/{patient.pk}/unscheduled-visits/", body, format="json"
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, field)
    assert not Visit.objects.filter(patient=patient, unscheduled_number__isnull=False).exists()


def test_no_unscheduled_visit_before_allocation(
    client_for, coordinator, multisite_study, make_patient
):
    patient = make_patient(multisite_study, "PKUPH")
    response = client_for(coordinator).post(
        f"/api/patients/{patient.pk}/unscheduled-visits/", {"actual_date": "2025-01-12"}
    )
    assert response.status_code == 409
    assert not Visit.objects.exists()


def test_a_scheduled_visit_is_not_voided(client_for, coordinator, allocate):
    week1 = Visit.objects.get(patient=allocate(), code="W1")
    response = client_for(coordinator).delete(
        f"/api/visits/{week1.pk}/", {"reason": "not needed", "version": 1}
    )
    assert response.status_code == 409
    week1.refresh_from_db()
    assert week1.is_voided is False


def test_visits_of_a_foreign_site_are_a_404_and_a_monitor_cannot_record(
    client_for, make_user, allocate
):
    patient = allocate()
    week1 = Visit.objects.get(patient=patient, code="W1")
    navy = client_for(make_user("nina", "coordinator", "NCT03304288", ["NAVY"]))
    assert navy.get(f"/api/patients/{patient.pk}/visits/").status_code == 404
    assert navy.get(f"/api/visits/{week1.pk}/").status_code == 404
    assert record(navy, week1, status="missed").status_code == 404
    monitor = client_for(make_user("mo", "monitor", "NCT03304288"))
    assert record(monitor, week1, status="missed").status_code == 403
    week1.refresh_from_db()
    assert week1.status == "scheduled"


def test_visit_list_is_filtered_by_patient(client_for, coordinator, allocate):
    first, second = allocate(), allocate()
    client = client_for(coordinator)
    listing = client.get("/api/visits/", {"patient": second.pk, "page_size": 100}).json()
    assert listing["count"] == 22
    assert {v["patient"] for v in listing["results"]} == {second.pk}
    assert first.pk != second.pk


def test_a_long_correction_reason_is_kept_in_full(client_for, coordinator, allocate):
    client = client_for(coordinator)
    week1 = Visit.objects.get(patient=allocate(), code="W1")
    record(client, week1, status="completed", actual_date="2025-01-18")
    reason = "Date taken from the wrong source page; " * 8  # 320 characters
    response = client.patch(
        f"/api/visits/{week1.pk}/",
        {"actual_date": "2025-01-19", "reason": reason, "version": 2},
        format="json",
    )
    assert response.status_code == 200, response.json()
    history = client.get(f"/api/visits/{week1.pk}/history/").json()["results"]
    assert history[-1]["reason"] == reason.strip()


def test_a_visit_is_not_missed_before_its_window_has_closed(client_for, coordinator, allocate):
    patient = allocate(TODAY - days(6))
    week1 = Visit.objects.get(patient=patient, code="W1")  # day 7 ± 2: open until day 9
    response = record(client_for(coordinator), week1, status="missed")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["message"]) == (
        "status",
        "A visit can be marked missed only after its window has closed "
        f"(the window ends {(TODAY + days(3)).isoformat()}).",
    )
    week1.refresh_from_db()
    assert (week1.status, week1.version) == ("scheduled", 1)


def test_worklist_filters_list_overdue_and_this_week_s_visits(make_user, allocate):
    from django.test import Client

    patient = allocate(TODAY - days(20))  # W2 (day 14 ± 2) overdue; W3 (day 21 ± 2) due
    client = Client()
    client.force_login(make_user("cora", "coordinator", "NCT03304288", ["PKUPH"]))

    def codes(worklist):
        response = client.get("/admin/visits/visit/", {"worklist": worklist})
        assert response.status_code == 200
        return sorted(v.code for v in response.context["cl"].result_list if v.patient == patient)

    assert codes("overdue") == ["D1", "W1", "W2"]
    assert codes("week") == ["W3", "W4"]  # W4: day 28 ± 2 opens on day 26, within 7 days
