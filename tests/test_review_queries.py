"""Issue 14: queries — raised by monitors and data managers on a record (or a field of it),
answered by the site, closed or re-opened by the raiser's roles; every step audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from visits.review.models import Query

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(multisite_study, make_patient, record_lab):
    patient = make_patient(multisite_study, "PKUPH")
    return record_lab(patient, "PLAT", "25", "10^9/L", lln="100", uln="300")


@pytest.fixture
def people(make_user, client_for):
    users = {
        "monitor": make_user("mo", "monitor", "NCT03304288", ["PKUPH"]),
        "data_manager": make_user("dm", "data_manager", "NCT03304288", ["PKUPH"]),
        "coordinator": make_user("co", "coordinator", "NCT03304288", ["PKUPH"]),
        "investigator": make_user("inv", "investigator", "NCT03304288", ["PKUPH"]),
        "statistician": make_user("st", "statistician", "NCT03304288", ["PKUPH"]),
        "other_site_monitor": make_user("mo2", "monitor", "NCT03304288", ["BJH"]),
    }
    return {role: client_for(user) for role, user in users.items()}


def raise_query(client, lab, **overrides):
    body = {
        "resource": "lab-results",
        "record_id": lab.pk,
        "field": "value",
        "text": "Please check",
    }
    body.update(overrides)
    return client.post("/api/queries/", body, format="json")


def test_the_life_cycle_open_answered_closed_reopened_each_step_audited(lab, people):
    raised = raise_query(people["monitor"], lab)
    assert raised.status_code == 201
    query = raised.json()
    assert {k: query[k] for k in ("resource", "record_id", "field", "status", "raised_by")} == {
        "resource": "lab-results",
        "record_id": lab.pk,
        "field": "value",
        "status": "open",
        "raised_by": "mo",
    }
    assert query["subject_id"] == lab.patient.subject_id
    assert query["age_days"] == 0
    qid = query["id"]

    answered = people["coordinator"].post(
        f"/api/queries/{qid}/answer/",
        {"text": "Transcribed from the lab sheet: 25."},
        format="json",
    )
    assert answered.status_code == 200
    assert (answered.json()["status"], answered.json()["answered_by"]) == ("answered", "co")

    closed = people["monitor"].post(
        f"/api/queries/{qid}/close/", {"reason": "Confirmed against source"}, format="json"
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["close_reason"] == "Confirmed against source"

    reopened = people["data_manager"].post(
        f"/api/queries/{qid}/reopen/", {"reason": "The sheet says 52"}, format="json"
    )
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "open"
    assert reopened.json()["closed_by"] is None

    history = people["investigator"].get(f"/api/queries/{qid}/history/").json()
    assert [(e["user"], e["type"], e["reason"]) for e in history["results"]] == [
        ("mo", "created", "Query raised: Please check"),
        ("co", "changed", "Query answered: Transcribed from the lab sheet: 25."),
        ("mo", "changed", "Query closed: Confirmed against source"),
        ("dm", "changed", "Query re-opened: The sheet says 52"),
    ]
    stored = Query.objects.get(pk=qid)
    assert (stored.status, stored.version, stored.answer) == (
        "open",
        4,
        "Transcribed from the lab sheet: 25.",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"resource": "lab-result"}, "resource"),
        ({"record_id": 0}, "record_id"),
        ({"record_id": "twelve"}, "record_id"),
        ({"field": "colour"}, "field"),
        ({"field": "updated_at"}, "field"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_stored(lab, people, overrides, field):
    response = raise_query(people["monitor"], lab, **overrides)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert Query.objects.count() == 0


def test_an_unknown_record_and_a_record_of_another_site_look_the_same(lab, people):
    unknown = raise_query(people["monitor"], lab, record_id=lab.pk + 1000)
    foreign = raise_query(people["other_site_monitor"], lab)
    for response in (unknown, foreign):
        assert response.status_code == 400
        assert response.json()["errors"] == [
            {"field": "record_id", "message": "No such record.", "code": "invalid"}
        ]
    assert Query.objects.count() == 0


def test_a_query_on_a_visit_without_a_field(lab, people, place_on_arm):
    from django.contrib.auth import get_user_model

    from visits.services import unscheduled_visit_create

    patient = place_on_arm(lab.patient, "RTX", day1=dt.date(2025, 1, 10))
    admin = get_user_model().objects.get(username="fixture-admin")
    visit = unscheduled_visit_create(actor=admin, patient=patient, actual_date=dt.date(2025, 2, 1))
    response = raise_query(
        people["data_manager"], lab, resource="visits", record_id=visit.pk, field=""
    )
    assert response.status_code == 201
    assert (
        response.json()["resource"],
        response.json()["record_id"],
        response.json()["field"],
    ) == (
        "visits",
        visit.pk,
        "",
    )


@pytest.mark.parametrize(
    ("role", "step", "body", "expected"),
    [
        ("coordinator", "close", {"reason": "x"}, 403),  # a coordinator cannot close
        ("investigator", "close", {"reason": "x"}, 403),
        ("monitor", "answer", {"text": "x"}, 403),  # the monitor does not answer their query
        ("statistician", "answer", {"text": "x"}, 403),
        ("statistician", "reopen", {"reason": "x"}, 403),
        ("other_site_monitor", "close", {"reason": "x"}, 404),
        ("coordinator", "answer", {}, 400),
        ("monitor", "close", {"reason": ""}, 400),
    ],
)
def test_wrong_role_or_missing_text_changes_nothing(lab, people, role, step, body, expected):
    qid = raise_query(people["monitor"], lab).json()["id"]
    response = people[role].post(f"/api/queries/{qid}/{step}/", body, format="json")
    assert response.status_code == expected
    stored = Query.objects.get(pk=qid)
    assert (stored.status, stored.version) == ("open", 1)


@pytest.mark.parametrize("role", ["coordinator", "investigator", "statistician"])
def test_only_monitors_and_data_managers_raise(lab, people, role):
    response = raise_query(people[role], lab)
    assert response.status_code == 403
    assert Query.objects.count() == 0


def test_steps_out_of_order_are_409(lab, people):
    qid = raise_query(people["monitor"], lab).json()["id"]
    again = people["monitor"].post(f"/api/queries/{qid}/reopen/", {"reason": "x"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    people["monitor"].post(
        f"/api/queries/{qid}/close/", {"reason": "raised in error"}, format="json"
    )
    late = people["coordinator"].post(f"/api/queries/{qid}/answer/", {"text": "x"}, format="json")
    assert (late.status_code, late.json()["code"]) == (409, "conflict")
    assert Query.objects.get(pk=qid).answer == ""


def test_lists_by_site_patient_status_and_age_and_counts_per_site(
    lab, people, multisite_study, make_patient, record_lab
):
    other = record_lab(make_patient(multisite_study, "BJH"), "PLAT", "30", "10^9/L")
    dm_all = people["data_manager"]
    first = raise_query(dm_all, lab).json()["id"]
    second = raise_query(dm_all, lab, field="unit").json()["id"]
    Query.objects.filter(pk=first).update(opened_at=timezone.now() - dt.timedelta(days=10))
    people["coordinator"].post(f"/api/queries/{second}/answer/", {"text": "ok"}, format="json")

    def ids(client, params):
        return [q["id"] for q in client.get("/api/queries/", params).json()["results"]]

    assert ids(people["monitor"], {"status": "open"}) == [first]
    assert ids(people["monitor"], {"status": "answered"}) == [second]
    assert ids(people["monitor"], {"min_age_days": 7}) == [first]
    assert ids(people["monitor"], {"patient": lab.patient_id}) == [second, first]
    assert ids(people["monitor"], {"site": other.patient.site_id}) == []
    assert people["other_site_monitor"].get("/api/queries/").json()["count"] == 0
    bad = people["monitor"].get("/api/queries/", {"colour": "red"})
    assert bad.status_code == 400
    assert people["monitor"].get(f"/api/queries/{first}/").json()["age_days"] == 10

    counts = people["monitor"].get("/api/queries/open-per-site/").json()
    assert counts == [
        {
            "study": "NCT03304288",
            "site": lab.patient.site_id,
            "site_code": "PKUPH",
            "open": 1,
            "answered": 1,
        }
    ]
    assert people["other_site_monitor"].get("/api/queries/open-per-site/").json() == []


def test_the_admin_page_of_a_query_offers_the_steps_of_the_viewers_role(lab, people):
    from django.contrib.auth import get_user_model
    from django.test import Client

    qid = raise_query(people["monitor"], lab).json()["id"]
    links = {}
    for username in ("co", "mo"):
        browser = Client()
        browser.force_login(get_user_model().objects.get(username=username))
        page = browser.get(f"/admin/review/query/{qid}/change/").content.decode()
        links[username] = [
            step for step in ("answer", "close", "reopen") if f"/{qid}/{step}/" in page
        ]
    assert links == {"co": ["answer"], "mo": ["close"]}
    missing = browser.get("/admin/review/query/999999/change/")
    assert missing.status_code == 302  # the admin's "does not exist" redirect
