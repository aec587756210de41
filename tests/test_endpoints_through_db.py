"""Every shipped trial, through the database and the API, as CI runs it (PostgreSQL).

The shipped protocol files are loaded into the database (conftest), so the response criteria the
engine reads are the stored ones: on PostgreSQL a jsonb value, whose keys come back shortest first
(``{"R": …, "CR": …}``). Response levels are ranked by their explicit ``rank``; before that, the
key order made CR rank below R there, so that an R-only course met CR endpoints, a count of 150
was labelled R, and the report's CR rate equalled its overall response rate.

Courses are entered through the lab API; results are read from the assessment and report APIs.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ecrf.domain.endpoints import Family, ResultType, kinds_of
from trials.models import Study
from visits.endpoints.evaluation import endpoint_specs

pytestmark = pytest.mark.django_db

DAY1 = dt.date(2025, 1, 9)
SHIPPED = ["NCT03304288", "NCT03918265", "NCT05471050", "NCT05694130"]
# best_response, response_at_time_point, sustained_response
BINARY_PLATELET_KINDS = kinds_of(result=ResultType.BINARY, family=Family.PLATELET)
# A count every week for 60 weeks: every window up to then has one (not the 2-year windows).
FOLLOW_UP_DAYS = range(7, 421, 7)


def counts_course(subject: str, value: int) -> list[dict]:
    """Baseline 15 three days before day 1, then `value` every week."""
    days = [(-3, 15), *((day, value) for day in FOLLOW_UP_DAYS)]
    return [
        {
            "patient": subject,
            "test_code": "PLAT",
            "value": str(count),
            "unit": "10^9/L",
            "lln": "125",
            "uln": "350",
            "collected_at": f"{(DAY1 + dt.timedelta(days=day)).isoformat()}T08:00:00Z",
            "accession": f"{subject}-D{day}",
        }
        for day, count in days
    ]


@pytest.fixture
def enter(make_patient, place_on_arm, make_user, client_for):
    """enter(registry_id, count) → (patient id, assessment body): a patient on the study's first
    arm whose counts (baseline 15, then `count` weekly) are posted through the bulk lab API."""

    def run(registry_id: str, count: int) -> tuple[int, dict]:
        study = Study.objects.get(registry_id=registry_id)
        manager = make_user(f"dm-{registry_id}", "data_manager", registry_id)
        client = client_for(manager)
        site_code = study.sites.order_by("code").first().code
        # NCT03918265 assesses platelet responses for its Evans syndrome patients only.
        diagnosis = {"diagnosis": "EVANS"} if registry_id == "NCT03918265" else {}
        patient = make_patient(study, site_code, **diagnosis)
        place_on_arm(patient, study.arms.order_by("code").first().code, day1=DAY1)
        response = client.post(
            "/api/lab-results/bulk/",
            {"source": "course.csv", "rows": counts_course(patient.subject_id, count)},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["failed"] == 0
        body = client.get(f"/api/patients/{patient.pk}/assessments/").json()
        return patient.pk, body

    return run


def within_follow_up(spec) -> bool:
    """Whether the course's counts reach the end of the endpoint's window (NCT03918265's 2-year
    platelet response does not: without a count in its window it is not met, by design)."""
    point = spec.time_point
    return point is None or point.day + point.window_after <= FOLLOW_UP_DAYS[-1]


def levels_of(registry_id: str) -> tuple[str, str]:
    """The best and the second platelet level of the study's current protocol, by rank."""
    version = Study.objects.get(registry_id=registry_id).current_protocol()
    stored = version.response_criteria["levels"]
    ranked = sorted(stored, key=lambda code: stored[code]["rank"])
    return ranked[0], ranked[1]


@pytest.mark.parametrize("registry_id", SHIPPED)
def test_the_stored_levels_are_ranked_explicitly(registry_id):
    best, second = levels_of(registry_id)
    assert (best, second) == ("CR", "PR" if registry_id == "NCT05694130" else "R")


@pytest.mark.parametrize("registry_id", SHIPPED)
def test_a_course_below_cr_never_meets_a_cr_endpoint(enter, registry_id):
    best, second = levels_of(registry_id)
    _, body = enter(registry_id, 60)  # 60 ≥ 30 and ≥ 2 × 15 (R); 50–100 (PR); never ≥ 100

    assert {visit["response"] for visit in body["visits"]} == {second}
    assert len(body["visits"]) == len(FOLLOW_UP_DAYS)
    version = Study.objects.get(registry_id=registry_id).current_protocol()
    specs = [
        s
        for s in endpoint_specs(version)
        if s.kind in BINARY_PLATELET_KINDS and within_follow_up(s)
    ]
    at_best = {s.code: body["endpoints"][s.code]["met"] for s in specs if s.level == best}
    at_second = {s.code: body["endpoints"][s.code]["met"] for s in specs if s.level == second}
    assert set(at_best.values()) <= {False}
    assert set(at_second.values()) <= {True}
    assert len(at_second) >= 1


@pytest.mark.parametrize("registry_id", SHIPPED)
def test_a_count_of_150_is_labelled_cr_per_visit(enter, registry_id):
    _, body = enter(registry_id, 150)
    assert {visit["response"] for visit in body["visits"]} == {"CR"}


def test_the_report_tells_complete_from_overall_response(enter, make_user, client_for):
    registry_id = "NCT03304288"
    enter(registry_id, 60)  # R only
    enter(registry_id, 150)  # CR
    study = Study.objects.get(registry_id=registry_id)
    statistician = make_user("stan-rtx", "statistician", registry_id)
    body = client_for(statistician).get(f"/api/studies/{study.pk}/report/").json()
    [arm] = [a for a in body["arms"] if a["n"] == 2]
    complete, overall = (
        arm["endpoints"]["complete_response_1y"],
        arm["endpoints"]["overall_response_1y"],
    )
    assert (complete["responders"], complete["n"], complete["rate"]) == (1, 2, 0.5)
    assert (overall["responders"], overall["n"], overall["rate"]) == (2, 2, 1.0)


def test_the_report_refuses_a_stored_kind_the_registry_does_not_know(make_user, client_for):
    """A definition stored outside the protocol loader (which checks kinds) is an error naming
    it, not a column silently summarised as continuous."""
    study = Study.objects.get(registry_id="NCT03304288")
    version = study.current_protocol()
    version.endpoint_definitions.create(
        code="os_2y", name="Overall survival", kind="overall_survival"
    )
    statistician = make_user("stan-os", "statistician", "NCT03304288")
    response = client_for(statistician).get(f"/api/studies/{study.pk}/report/")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "endpoint_definitions.os_2y.kind"
    assert error["message"].startswith("must be one of best_response, response_at_time_point, ")
    assert error["message"].endswith(", score_change, not 'overall_survival'")
