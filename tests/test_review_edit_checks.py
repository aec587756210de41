"""Issue 14: the protocol's edit checks raise queries on every write (raiser: the system) and
close them when the data are corrected, with the correction's reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from trials.models import ProtocolVersion
from visits.review.models import Query

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(multisite_study, make_patient, place_on_arm):
    return place_on_arm(make_patient(multisite_study, "PKUPH"), "RTX", day1=dt.date(2025, 1, 10))


@pytest.fixture
def coordinator(make_user, client_for):
    return client_for(make_user("co", "coordinator", "NCT03304288", ["PKUPH"]))


def lab(patient, value, test_code="PLAT", unit="10^9/L") -> dict:
    return {
        "patient": patient.pk,
        "collected_at": "2025-02-01T08:00:00Z",
        "test_code": test_code,
        "value": value,
        "unit": unit,
    }


def test_every_shipped_protocol_declares_checks_of_each_kind(multisite_study):
    for version in ProtocolVersion.objects.order_by("study__registry_id", "number"):
        kinds = {check["kind"] for check in version.content["edit_checks"]}
        assert kinds == {"lab_range", "visit_window", "required_labs", "date_order"}, version


def test_an_implausible_value_raises_a_query_and_its_correction_closes_it(patient, coordinator):
    stored = coordinator.post("/api/lab-results/", lab(patient, "2000"), format="json").json()
    query = Query.objects.get()
    assert (
        query.resource,
        query.record_id,
        query.field,
        query.edit_check,
        query.raised_by,
        query.status,
    ) == ("lab-results", stored["id"], "value", "plt_plausible", None, "open")
    assert query.text == (
        "Platelet count outside the plausible range (PLAT 2000 10^9/L is outside 0 to 1500 10^9/L)"
    )
    # Another write of the same patient does not raise the same query twice.
    coordinator.post("/api/lab-results/", lab(patient, "120"), format="json")
    assert Query.objects.count() == 1

    corrected = coordinator.patch(
        f"/api/lab-results/{stored['id']}/",
        {"value": "200", "reason": "Transcription error: 200, not 2000", "version": 1},
        format="json",
    )
    assert corrected.status_code == 200
    query.refresh_from_db()
    assert (query.status, query.closed_by, query.close_reason) == (
        "closed",
        None,
        "Corrected: Transcription error: 200, not 2000",
    )
    listed = coordinator.get("/api/queries/", {"edit_check": "plt_plausible"}).json()
    assert [(q["raised_by"], q["status"]) for q in listed["results"]] == [("system", "closed")]


def test_a_query_a_person_closed_is_not_raised_again(patient, coordinator, make_user, client_for):
    coordinator.post("/api/lab-results/", lab(patient, "2000"), format="json")
    monitor = client_for(make_user("mo", "monitor", "NCT03304288", ["PKUPH"]))
    qid = Query.objects.get().pk
    monitor.post(f"/api/queries/{qid}/close/", {"reason": "Confirmed on source"}, format="json")
    coordinator.post("/api/lab-results/", lab(patient, "130"), format="json")
    assert list(Query.objects.values_list("status", flat=True)) == ["closed"]


def test_a_void_closes_the_query_of_the_voided_record(patient, coordinator):
    stored = coordinator.post(
        "/api/lab-results/", lab(patient, "20", "HGB", "g/L"), format="json"
    ).json()
    assert Query.objects.get().edit_check == "hgb_plausible"
    coordinator.delete(f"/api/lab-results/{stored['id']}/?reason=Wrong%20patient&version=1")
    assert Query.objects.get().close_reason == "Corrected: Wrong patient"


def test_an_adverse_event_before_consent(patient, record_adverse_event):
    from patients.services import consent_record

    admin = get_user_model().objects.get(username="fixture-admin")
    consent_record(
        actor=admin, patient=patient, consented_at=dt.date(2025, 1, 6), consent_version="1.0"
    )
    event = record_adverse_event(patient, onset=dt.date(2025, 1, 3))
    query = Query.objects.get(edit_check="ae_after_consent")
    assert (query.resource, query.record_id, query.field) == (
        "adverse-events",
        event.pk,
        "onset_date",
    )
    assert query.text.endswith("(2025-01-03 is before consent on 2025-01-06)")


def test_a_visit_out_of_window_and_without_its_platelet_count(patient, coordinator):
    from visits.models import Visit
    from visits.services import visit_record

    admin = get_user_model().objects.get(username="fixture-admin")
    _calendar(patient, admin)
    week4 = Visit.objects.get(patient=patient, code="W4")
    late = week4.window_end + dt.timedelta(days=2)
    visit_record(actor=admin, visit=week4, status="completed", actual_date=late)
    found = {
        (q.edit_check, q.resource, q.record_id, q.field)
        for q in Query.objects.filter(status="open")
    }
    assert found == {
        ("visit_in_window", "visits", week4.pk, "actual_date"),
        ("platelets_at_key_visits", "visits", week4.pk, ""),
    }
    body = {**lab(patient, "60"), "visit": week4.pk}
    assert coordinator.post("/api/lab-results/", body, format="json").status_code == 201
    closed = Query.objects.get(edit_check="platelets_at_key_visits")
    assert (closed.status, closed.close_reason) == ("closed", "Corrected: Lab result entered")


def _calendar(patient, admin):
    from visits.services import visit_calendar_create

    visit_calendar_create(
        actor=admin,
        patient=patient,
        day1=patient.day1,
        protocol_version=patient.protocol_version,
        reason="Calendar (test)",
    )


@pytest.mark.parametrize(
    ("shipped", "edited", "key", "problem"),
    [
        ("visits: [W4, W12, W26]", "visits: [W4, W99]", "versions.0.edit_checks.4.visits.1",
         "no visit 'W99'"),
        ("kind: visit_window,", "kind: visit_windows,", "versions.0.edit_checks.3.kind",
         "must be one of lab_range, visit_window, required_labs, date_order"),
        ("test_code: HGB, low: 30, high: 250", "test_code: HGB, low: 300, high: 250",
         "versions.0.edit_checks.1.low", "must not be above high"),
    ],
)  # fmt: skip
def test_a_bad_edit_check_in_a_protocol_file_is_named_by_its_path(
    tmp_path, shipped, edited, key, problem
):
    from trials.services import ProtocolFileError, read_protocol_file, shipped_protocol_paths

    source = next(p for p in shipped_protocol_paths() if p.name == "NCT03304288.yaml")
    text = source.read_text(encoding="utf-8")
    assert shipped in text
    broken = tmp_path / "NCT03304288.yaml"
    broken.write_text(text.replace(shipped, edited, 1), encoding="utf-8")
    with pytest.raises(ProtocolFileError) as error:
        read_protocol_file(broken)
    assert (error.value.key, error.value.problem) == (key, problem)


def test_the_facts_read_along_in_one_statement_equal_those_read_on_their_own(
    patient, coordinator, monkeypatch
):
    """The edit checks' one statement (each kind a JSON array) and the separate reads of a kind
    no earlier write needed give the same facts: decimals exact, dates as dates."""
    from decimal import Decimal

    from visits.models import Visit
    from visits.review import edit_checks
    from visits.services import visit_record

    admin = get_user_model().objects.get(username="fixture-admin")
    _calendar(patient, admin)
    week4 = Visit.objects.get(patient=patient, code="W4")
    visit_record(actor=admin, visit=week4, status="completed", actual_date=week4.window_start)
    coordinator.post("/api/lab-results/", lab(patient, "2000"), format="json")
    coordinator.post("/api/lab-results/", lab(patient, "12.5", "WBC", "10^9/L"), format="json")
    kinds = {"labs", "visits", "adverse_events", "doses", "consents"}
    monkeypatch.setitem(edit_checks._needed_by_written, frozenset({"labs"}), set(kinds))
    row = edit_checks._read_patient(patient.pk, frozenset({"labs"}))
    along = edit_checks._facts(row, kinds)
    alone = edit_checks._facts({"id": patient.pk, "day1": row["day1"]}, kinds)
    assert along == alone
    assert sorted((f.test_code, f.value_std) for f in along.labs) == [
        ("PLAT", Decimal("2000.0000")),
        ("WBC", Decimal("12.5000")),
    ]
    assert [(v.code, v.completed, v.actual_date) for v in along.visits if v.completed] == [
        ("W4", True, week4.window_start)
    ]
    assert all(isinstance(v.window_start, dt.date) for v in along.visits)
    # W4 completed without its platelet count, then the implausible count: two system queries.
    assert sorted(q[1] for q in row["system_queries"]) == [
        "platelets_at_key_visits",
        "plt_plausible",
    ]
