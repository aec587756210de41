"""CONSORT counts: every stage of the flow, reasons, arms, data cuts as of a date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patients.models import Patient
from patients.randomization import patient_randomize
from patients.selectors import consort_counts
from patients.services import patient_change_status
from tests.conftest import history_maintenance

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
CUT = dt.date(2025, 2, 1)


@pytest.fixture
def dana(make_user):
    return make_user("dana", "data_manager", "NCT03304288")


def move(actor, patient, status, code=None, reason="per protocol"):
    patient_change_status(
        actor=actor, patient=patient, to_status=status, on=TODAY, reason=reason, reason_code=code
    )


def backdate_everything_to(day: dt.date) -> None:
    """Pretends every change so far was made on `day` (history rows are written 'now')."""
    stamp = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    with history_maintenance():
        Patient.history.update(history_date=stamp)


@pytest.fixture
def flow(multisite_study, make_patient, screen_eligible, allocation_list, record_lab, dana):
    """Eight patients at every stage of the flow; returns them by name."""
    from patients.eligibility import eligibility_evaluate

    allocation_list(multisite_study)
    pkuph = lambda: make_patient(multisite_study, "PKUPH")  # noqa: E731
    people = {}
    people["screening"] = pkuph()
    people["failed_plt"] = pkuph()
    record_lab(people["failed_plt"], "PLAT", "85", "10^9/L")
    record_lab(people["failed_plt"], "ALT", "200", "U/L", uln="40")
    eligibility_evaluate(actor=dana, patient=people["failed_plt"])
    people["declined"] = pkuph()
    move(dana, people["declined"], "screen_failed", "declined_to_participate")
    people["eligible"] = screen_eligible(pkuph())
    for name in ("treated", "withdrawn", "completed"):
        people[name] = screen_eligible(make_patient(multisite_study, "NAVY"))
        patient_randomize(actor=dana, patient=people[name])
    backdate_everything_to(CUT)
    # After the cut: treatment, a withdrawal, a completion, a patient voided, a new screening.
    move(dana, people["treated"], "on_treatment")
    move(dana, people["withdrawn"], "on_treatment")
    move(dana, people["withdrawn"], "withdrawn", "adverse_event")
    for status in ("on_treatment", "follow_up", "completed"):
        move(dana, people["completed"], status)
    from patients.services import patient_void

    patient_void(actor=dana, patient=people["screening"], reason="duplicate", expected_version=1)
    people["late"] = pkuph()
    for patient in people.values():
        patient.refresh_from_db()
    return people


def arm_counts(counts):
    return {arm["arm"]: arm for arm in counts["arms"]}


def test_counts_now(multisite_study, flow):
    counts = consort_counts(multisite_study)
    assert {k: v for k, v in counts.items() if k != "arms"} == {
        "study": "NCT03304288",
        "as_of": None,
        "allocation": "randomized",
        "screened": 7,  # the voided patient is not counted
        "in_screening": 1,  # 'late'
        "eligible_not_allocated": 1,
        "screen_failed": 2,
        "screen_failure_reasons": [
            {"reason": "alt_ast_3uln", "count": 1},
            {"reason": "declined_to_participate", "count": 1},
            {"reason": "plt_below_30", "count": 1},
        ],
        "allocated": 3,
        "on_treatment": 1,
        "follow_up": 0,
        "completed": 1,
        "withdrawn": 1,
        "withdrawal_reasons": [{"reason": "adverse_event", "count": 1}],
    }
    # Per arm: the allocated patients at each stage, wherever the list put them.
    expected = {code: dict.fromkeys(("allocated", "on_treatment", "withdrawn", "completed"), 0)
                for code in ("RTX", "RTX_ATRA")}  # fmt: skip
    for name, stage in (("treated", "on_treatment"), ("withdrawn", "withdrawn"),
                        ("completed", "completed")):  # fmt: skip
        expected[flow[name].arm.code]["allocated"] += 1
        expected[flow[name].arm.code][stage] += 1
    arms = arm_counts(counts)
    assert {code: {k: arms[code][k] for k in expected[code]} for code in arms} == expected
    withdrawn_arm = arms[flow["withdrawn"].arm.code]
    assert withdrawn_arm["withdrawal_reasons"] == [{"reason": "adverse_event", "count": 1}]


def test_an_earlier_cut_is_not_changed_by_later_data(multisite_study, flow):
    counts = consort_counts(multisite_study, as_of=CUT)
    assert (
        counts["as_of"],
        counts["screened"],
        counts["in_screening"],
        counts["screen_failed"],
        counts["eligible_not_allocated"],
        counts["allocated"],
        counts["on_treatment"],
        counts["withdrawn"],
        counts["completed"],
    ) == (CUT, 7, 1, 2, 1, 3, 0, 0, 0)
    assert sum(arm["awaiting_treatment"] for arm in counts["arms"]) == 3
    before = consort_counts(multisite_study, as_of=CUT - dt.timedelta(days=1))
    assert before["screened"] == 0


def test_consort_api_with_and_without_a_cut(client_for, dana, multisite_study, flow):
    client = client_for(dana)
    url = f"/api/studies/{multisite_study.pk}/consort/"
    now = client.get(url)
    assert now.status_code == 200
    assert (now.json()["screened"], now.json()["withdrawn"]) == (7, 1)
    cut = client.get(url, {"as_of": CUT.isoformat()})
    assert (cut.json()["as_of"], cut.json()["withdrawn"], cut.json()["allocated"]) == (
        "2025-02-01",
        0,
        3,
    )


@pytest.mark.parametrize("as_of", [(TODAY + dt.timedelta(days=1)).isoformat(), "1 Feb 2025"])
def test_a_bad_cut_date_is_a_400(client_for, dana, multisite_study, as_of):
    response = client_for(dana).get(f"/api/studies/{multisite_study.pk}/consort/", {"as_of": as_of})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, "as_of")


def test_consort_needs_the_reports_right_and_a_visible_study(
    client_for, make_user, multisite_study, study
):
    coordinator = client_for(make_user("cora", "coordinator", "NCT03304288"))
    assert coordinator.get(f"/api/studies/{multisite_study.pk}/consort/").status_code == 403
    monitor = client_for(make_user("mo", "monitor", "NCT03304288"))
    assert monitor.get(f"/api/studies/{multisite_study.pk}/consort/").status_code == 200
    assert monitor.get(f"/api/studies/{study.pk}/consort/").status_code == 404
    assert monitor.get("/api/studies/999999/consort/").status_code == 404


def test_a_site_bound_user_counts_only_their_sites(client_for, make_user, multisite_study, flow):
    navy = client_for(make_user("ivy", "investigator", "NCT03304288", ["NAVY"]))
    counts = navy.get(f"/api/studies/{multisite_study.pk}/consort/").json()
    assert (counts["screened"], counts["allocated"], counts["screen_failed"]) == (3, 3, 0)


def test_single_arm_counts_enrolment(make_user, make_patient, screen_eligible):
    from patients.randomization import patient_enrol
    from trials.models import Study

    single_arm = Study.objects.get(registry_id="NCT03918265")
    patient = screen_eligible(make_patient(single_arm, "PUMCH", diagnosis="EVANS"))
    patient_enrol(actor=make_user("ivy", "investigator", "NCT03918265"), patient=patient)
    counts = consort_counts(single_arm)
    assert (counts["allocation"], counts["allocated"], counts["arms"][0]["arm"]) == (
        "enrolled",
        1,
        "TAC",
    )


def test_counting_takes_a_fixed_number_of_queries(
    django_assert_max_num_queries, multisite_study, flow
):
    with django_assert_max_num_queries(2):
        consort_counts(multisite_study)
    with django_assert_max_num_queries(2):
        consort_counts(multisite_study, as_of=CUT)
