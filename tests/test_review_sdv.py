"""Issue 14: source data verification — a monitor's mark bound to the record's version, cleared
(with the change's reason, who and when) by any later change; progress against the protocol's
risk-based `sdv_plan`."""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.domain.errors import DomainError
from ecrf.domain.sdv_plan import RecordFact, parse_sdv_plan, required_records
from visits.review.models import SourceVerification

PLAN = {
    "all": [
        {"resource": "lab-results", "test_codes": ["PLAT"]},
        {"resource": "adverse-events", "serious": True},
    ],
    "sample": {"resources": ["lab-results", "vital-signs"], "fraction": 0.2, "seed": 7},
}


# --- the plan, pure rules -------------------------------------------------------------------


def test_a_plan_is_parsed_into_sorted_rules_and_a_decimal_fraction():
    assert parse_sdv_plan(PLAN) == {
        "all": [
            {"resource": "lab-results", "test_codes": ["PLAT"]},
            {"resource": "adverse-events", "serious": True},
        ],
        "sample": {"resources": ["lab-results", "vital-signs"], "fraction": "0.2", "seed": 7},
    }
    assert parse_sdv_plan(None) is None


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        ({"all": [{"resource": "labs"}]}, "sdv_plan.all.0.resource", "must be one of"),
        (
            {"all": [{"resource": "vital-signs", "serious": True}]},
            "sdv_plan.all.0.serious",
            "unknown key",
        ),
        (
            {"all": [{"resource": "adverse-events", "serious": False}]},
            "sdv_plan.all.0.serious",
            "must be true",
        ),
        (
            {"all": [{"resource": "lab-results", "test_codes": []}]},
            "sdv_plan.all.0.test_codes",
            "non-empty",
        ),
        (
            {"sample": {"resources": ["lab-results"], "fraction": 0, "seed": 1}},
            "sdv_plan.sample.fraction",
            "between 0",
        ),
        (
            {"sample": {"resources": ["lab-results"], "fraction": 1.5, "seed": 1}},
            "sdv_plan.sample.fraction",
            "between 0",
        ),
        (
            {"sample": {"resources": ["lab-results"], "fraction": "x", "seed": 1}},
            "sdv_plan.sample.fraction",
            "a number",
        ),
        (
            {"sample": {"resources": ["lab-results"], "fraction": 0.5}},
            "sdv_plan.sample.seed",
            "integer",
        ),
        (
            {"sample": {"resources": [], "fraction": 0.5, "seed": 1}},
            "sdv_plan.sample.resources",
            "non-empty",
        ),
        ({"every": []}, "sdv_plan.every", "unknown key"),
        ({"all": []}, "sdv_plan", "must require something"),
    ],
)
def test_a_bad_plan_is_refused_naming_its_path(raw, path, message):
    with pytest.raises(DomainError) as error:
        parse_sdv_plan(raw)
    assert error.value.field == path
    assert message in str(error.value)


def test_all_rules_require_every_matching_record_and_the_sample_is_deterministic():
    plan = parse_sdv_plan(PLAN)
    facts = [RecordFact("lab-results", i, test_code="ALT") for i in range(1, 201)]
    facts += [
        RecordFact("lab-results", 1001, test_code="PLAT"),
        RecordFact("adverse-events", 5, serious=True),
        RecordFact("adverse-events", 6, serious=False),
        RecordFact("ecog-assessments", 9),
    ]
    required = required_records(plan, facts)
    assert {("lab-results", 1001), ("adverse-events", 5)} <= required
    assert ("adverse-events", 6) not in required
    assert ("ecog-assessments", 9) not in required
    sampled = sorted(rid for res, rid in required if res == "lab-results" and rid <= 200)
    assert len(sampled) == 42  # about a fifth of 200 (seed 7)
    # Record by record: the same records are sampled whatever else exists.
    alone = required_records(plan, facts[:50])
    assert sorted(rid for _, rid in alone) == [rid for rid in sampled if rid <= 50]
    assert required_records(plan, facts) == required


def test_every_shipped_protocol_declares_a_plan(db):
    from trials.models import Study

    for study in Study.objects.order_by("registry_id"):
        plan = study.protocol_versions.order_by("number").last().content["sdv_plan"]
        assert {"resource": "adverse-events", "serious": True} in plan["all"], study.registry_id
        assert plan["sample"]["fraction"] == "0.2"


# --- through the API, on the database --------------------------------------------------------


@pytest.fixture
def patient(multisite_study, make_patient):
    return make_patient(multisite_study, "PKUPH")


@pytest.fixture
def plat(patient, record_lab):
    return record_lab(patient, "PLAT", "25", "10^9/L")


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


def mark(client, **body):
    return client.post("/api/sdv/", body, format="json")


@pytest.mark.django_db
def test_a_mark_binds_the_version_and_a_change_clears_it_saying_why(plat, people):
    response = mark(people["monitor"], resource="lab-results", record_id=plat.pk)
    assert response.status_code == 201
    [marked] = response.json()
    assert {
        k: marked[k]
        for k in ("resource", "record_id", "record_version", "verified_by", "is_cleared")
    } == {
        "resource": "lab-results",
        "record_id": plat.pk,
        "record_version": 1,
        "verified_by": "mo",
        "is_cleared": False,
    }
    again = mark(people["data_manager"], resource="lab-results", record_id=plat.pk)
    assert again.status_code == 409
    assert SourceVerification.objects.count() == 1

    changed = people["coordinator"].patch(
        f"/api/lab-results/{plat.pk}/",
        {"value": "26", "reason": "Transcription error", "version": 1},
        format="json",
    )
    assert changed.status_code == 200
    stored = SourceVerification.objects.get()
    assert (stored.is_cleared, stored.cleared_by.username, stored.cleared_reason) == (
        True,
        "co",
        "Transcription error",
    )
    assert stored.cleared_at is not None
    listed = people["monitor"].get("/api/sdv/", {"record_id": plat.pk}).json()["results"]
    assert [(m["is_cleared"], m["cleared_by"], m["cleared_reason"]) for m in listed] == [
        (True, "co", "Transcription error")
    ]
    # Verified again at the new version; then a void clears that mark too.
    renewed = mark(people["monitor"], resource="lab-results", record_id=plat.pk)
    assert renewed.json()[0]["record_version"] == 2
    voided = people["coordinator"].delete(
        f"/api/lab-results/{plat.pk}/?reason=Wrong patient&version=2"
    )
    assert voided.status_code == 200
    assert list(
        SourceVerification.objects.order_by("id").values_list(
            "record_version", "is_cleared", "cleared_reason"
        )
    ) == [(1, True, "Transcription error"), (2, True, "Wrong patient")]
    # Each step is in the mark's audit history.
    assert SourceVerification.history.filter(id=stored.pk).count() == 2


@pytest.mark.django_db
def test_a_visit_and_its_records_are_marked_at_once(patient, record_lab, people, place_on_arm):
    from django.contrib.auth import get_user_model

    from ecrf.audit import update_audited
    from visits.services import unscheduled_visit_create

    admin = get_user_model().objects.get(username="fixture-admin")
    place_on_arm(patient, "RTX", day1=dt.date(2025, 1, 10))
    visit = unscheduled_visit_create(actor=admin, patient=patient, actual_date=dt.date(2025, 2, 1))
    lab = record_lab(patient, "PLAT", "40", "10^9/L", on=dt.date(2025, 2, 1))
    update_audited(
        lab, changes={"visit": visit}, actor=admin, reason="Linked to its visit", expected_version=1
    )
    other = record_lab(patient, "HGB", "120", "g/L", on=dt.date(2025, 1, 20))

    response = mark(people["data_manager"], visit=visit.pk)
    assert response.status_code == 201
    assert sorted((m["resource"], m["record_id"]) for m in response.json()) == [
        ("lab-results", lab.pk),
        ("visits", visit.pk),
    ]
    assert not SourceVerification.objects.filter(
        record_id=other.pk, resource="lab-results"
    ).exists()
    # Marking the visit again leaves the standing marks as they are.
    assert mark(people["data_manager"], visit=visit.pk).json() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("coordinator", 403),
        ("investigator", 403),
        ("statistician", 403),
        ("other_site_monitor", 400),
    ],
)
def test_only_monitors_and_data_managers_of_the_site_mark(plat, people, role, expected):
    response = mark(people[role], resource="lab-results", record_id=plat.pk)
    assert response.status_code == expected
    if expected == 400:  # another site's record is not confirmed to exist
        assert response.json()["errors"][0]["field"] == "record_id"
    assert SourceVerification.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resource": "labs", "record_id": 1}, "resource"),
        ({"resource": "lab-results"}, "record_id"),
        ({"record_id": 1}, "resource"),
        ({"resource": "lab-results", "record_id": 999999}, "record_id"),
        ({"resource": "lab-results", "record_id": 0}, "record_id"),
        ({"visit": 1, "resource": "lab-results", "record_id": 1}, "visit"),
        ({}, "resource"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(plat, people, body, field):
    response = mark(people["monitor"], **body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert SourceVerification.objects.count() == 0


@pytest.mark.django_db
def test_progress_counts_required_verified_and_cleared_per_site_and_patient(
    multisite_study, make_patient, record_lab, people
):
    first = make_patient(multisite_study, "PKUPH")
    second = make_patient(multisite_study, "PKUPH")
    plat = record_lab(first, "PLAT", "25", "10^9/L")
    record_lab(first, "PLAT", "30", "10^9/L", on=dt.date(2025, 1, 8))
    second_plat = record_lab(second, "PLAT", "60", "10^9/L")
    monitor = people["monitor"]
    mark(monitor, resource="lab-results", record_id=plat.pk)
    mark(monitor, resource="patients", record_id=first.pk)
    mark(monitor, resource="lab-results", record_id=second_plat.pk)
    people["coordinator"].patch(
        f"/api/lab-results/{second_plat.pk}/",
        {"value": "61", "reason": "typo", "version": 1},
        format="json",
    )
    response = monitor.get("/api/sdv/progress/", {"study": multisite_study.pk})
    assert response.status_code == 200
    body = response.json()
    # Required: every PLAT result and every patient (plan of NCT03304288), plus the sample of
    # the other labs (none here).
    assert [
        (p["subject_id"], p["required"], p["verified"], p["cleared"]) for p in body["patients"]
    ] == [(first.subject_id, 3, 2, 0), (second.subject_id, 2, 0, 1)]
    assert [
        (s["site_code"], s["required"], s["verified"], s["cleared"]) for s in body["sites"]
    ] == [("PKUPH", 5, 2, 1)]
    # Without filters: all the monitor's studies (here one), the same rows.
    assert monitor.get("/api/sdv/progress/").json() == body
    assert (
        monitor.get(
            "/api/sdv/progress/", {"study": multisite_study.pk, "site": first.site_id}
        ).json()
        == body
    )
    # Another site's monitor sees nothing of these patients.
    other = people["other_site_monitor"].get("/api/sdv/progress/", {"study": multisite_study.pk})
    assert other.json() == {"sites": [], "patients": []}


@pytest.mark.django_db
@pytest.mark.parametrize(("params", "field"), [({"study": "x"}, "study"), ({"site": "-1"}, "site")])
def test_progress_filters_must_be_ids(people, params, field):
    response = people["monitor"].get("/api/sdv/progress/", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


# --- the admin ---------------------------------------------------------------------------------


def browser_for(username):
    from django.contrib.auth import get_user_model
    from django.test import Client

    browser = Client()
    browser.force_login(get_user_model().objects.get(username=username))
    return browser


@pytest.mark.django_db
def test_the_admin_marks_from_the_casebook_and_shows_the_mark_and_its_clearing(plat, people):
    patient = plat.patient
    monitor = browser_for("mo")
    casebook = monitor.get(f"/admin/patients/patient/{patient.pk}/casebook/").content.decode()
    verify_url = (
        f"/admin/review/sourceverification/add/?resource=lab-results&amp;record_id={plat.pk}"
    )
    assert verify_url in casebook
    assert "Source data verification: 0 of 2 required records verified" in casebook

    added = monitor.post(
        "/admin/review/sourceverification/add/",
        {"resource": "lab-results", "record_id": plat.pk},
    )
    assert added.status_code == 302
    stored = SourceVerification.objects.get()
    assert (stored.resource, stored.record_id, stored.verified_by.username) == (
        "lab-results",
        plat.pk,
        "mo",
    )
    casebook = monitor.get(f"/admin/patients/patient/{patient.pk}/casebook/").content.decode()
    assert verify_url not in casebook
    assert "SDV ✓ mo" in casebook
    assert "Source data verification: 1 of 2 required records verified" in casebook
    # A second mark of the same version is refused on the form; nothing more is stored.
    again = monitor.post(
        "/admin/review/sourceverification/add/",
        {"resource": "lab-results", "record_id": plat.pk},
    )
    assert again.status_code == 200
    assert "already verified" in again.content.decode()
    assert SourceVerification.objects.count() == 1

    people["coordinator"].patch(
        f"/api/lab-results/{plat.pk}/",
        {"value": "26", "reason": "Transcription error", "version": 1},
        format="json",
    )
    casebook = monitor.get(f"/admin/patients/patient/{patient.pk}/casebook/").content.decode()
    assert "by co: Transcription error" in casebook
    assert "1 cleared by a change since" in casebook
    listing = monitor.get("/admin/review/sourceverification/").content.decode()
    assert "Transcription error" in listing
    index = monitor.get("/admin/").content.decode()
    assert 'id="sdv-progress"' in index


@pytest.mark.django_db
def test_a_coordinator_gets_no_verify_link_and_cannot_mark_in_the_admin(plat, people):
    coordinator = browser_for("co")
    casebook = coordinator.get(
        f"/admin/patients/patient/{plat.patient.pk}/casebook/"
    ).content.decode()
    assert "/admin/review/sourceverification/add/" not in casebook
    refused = coordinator.post(
        "/admin/review/sourceverification/add/",
        {"resource": "lab-results", "record_id": plat.pk},
    )
    assert refused.status_code == 403
    assert SourceVerification.objects.count() == 0
