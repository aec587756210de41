"""Jobs started through the API (issue 12): a lab import in the background and a study's full
recompute answer 202 with the job, queued; the job's record then carries the same report, errors
and audit trail as the synchronous path. A job is handed to the queue when the request's
transaction commits: the test's transaction never does, so the tests run those hand-overs
(`django_capture_on_commit_callbacks`), and huey, in immediate mode here (no Redis), runs it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ecrf.models import Job
from visits.endpoints.models import PatientAssessment
from visits.labs.models import LabResult
from visits.simulation import simulate_cohort

pytestmark = pytest.mark.django_db


def row(patient, accession: str, value: str = "85") -> dict:
    return {
        "patient": patient.subject_id,
        "test_code": "PLAT",
        "value": value,
        "unit": "10^9/L",
        "lln": "150",
        "uln": "400",
        "collected_at": f"2025-03-0{accession[-1]}T08:30:00+08:00",
        "accession": accession,
    }


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what waits for the commit (the job's hand-over to the queue) as a request would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def background(client, rows, **options):
    body = {"rows": rows, "background": True, "source": "feed-0304.json", **options}
    return client.post("/api/lab-results/bulk/", body, format="json")


def test_a_background_import_answers_202_and_its_job_holds_the_report(
    multisite_study, make_patient, make_user, client_for, committed
):
    cora = make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])
    patient = make_patient(multisite_study, "PKUPH", actor=cora)
    client = client_for(cora)

    with committed() as handed_over:
        response = background(client, [row(patient, "A-1"), row(patient, "A-2", "40")])
    assert response.status_code == 202
    assert len(handed_over) == 1
    job = Job.objects.get()
    assert response["Location"] == f"http://testserver/api/jobs/{job.pk}/"
    body = response.json()
    assert {k: body[k] for k in ("id", "kind", "study", "site", "state", "done", "total")} == {
        "id": job.pk,
        "kind": "lab_import",
        "study": None,
        "site": None,
        "state": "queued",
        "done": 0,
        "total": None,
    }
    assert (body["requested_by"], body["result"]) == ("cora", None)
    # The requester follows the job although it names no study or site.
    followed = client.get(f"/api/jobs/{job.pk}/").json()
    assert (followed["state"], followed["done"], followed["total"]) == ("done", 2, 2)
    assert followed["result"] == {
        "source": "feed-0304.json",
        "created": 2,
        "skipped": 0,
        "failed": 0,
        "errors": [],
    }
    stored = LabResult.objects.filter(patient=patient).order_by("collected_at")
    assert [(r.source_accession, r.value) for r in stored] == [
        ("A-1", Decimal("85.0000")),
        ("A-2", Decimal("40.0000")),
    ]
    history = LabResult.history.filter(patient_id=patient.pk)
    assert {(h.history_type, h.history_user_id, h.history_change_reason) for h in history} == {
        ("+", cora.pk, "Bulk import feed-0304.json")
    }
    # Another site's coordinator neither sees it nor learns of it.
    other = client_for(make_user("olga", "coordinator", "NCT03304288", ["NAVY"]))
    assert other.get(f"/api/jobs/{job.pk}/").status_code == 404
    assert other.get("/api/jobs/").json()["count"] == 0


def test_a_refused_background_import_stores_nothing_and_its_job_names_the_rows(
    multisite_study, make_patient, make_user, client_for, committed
):
    cora = make_user("cora", "coordinator", "NCT03304288", ["PKUPH"])
    patient = make_patient(multisite_study, "PKUPH", actor=cora)
    with committed():
        response = background(
            client_for(cora),
            [row(patient, "A-1"), row(patient, "A-2", "-5")],
            study=multisite_study.pk,
        )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.state, job.study_id, job.error) == (
        "failed",
        multisite_study.pk,
        "1 of 2 rows have errors; nothing was imported.",
    )
    assert [(e["field"], e["line"]) for e in job.result["errors"]] == [("rows.1.value", 2)]
    assert not LabResult.objects.filter(patient=patient).exists()


def test_a_background_import_is_validated_like_any_request(multisite_study, make_user, client_for):
    client = client_for(make_user("cora", "coordinator", "NCT03304288", ["PKUPH"]))
    response = background(client, [])
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["rows"]
    response = client.post(
        "/api/lab-results/bulk/", {"rows": [{}], "background": "maybe"}, format="json"
    )
    assert [e["field"] for e in response.json()["errors"]] == ["background"]
    assert not Job.objects.exists()


def test_a_data_manager_recomputes_a_study_as_a_job(study, make_user, client_for, committed):
    simulate_cohort(study, patients=2, seed=5)
    PatientAssessment.objects.update(visits=[])  # stale: the recompute must restore them
    dora = make_user("dora", "data_manager", "NCT05471050")
    client = client_for(dora)

    with committed():
        response = client.post(f"/api/studies/{study.pk}/recompute/")
    assert response.status_code == 202
    job = Job.objects.get()
    assert response["Location"] == f"http://testserver/api/jobs/{job.pk}/"
    assert (response.json()["kind"], response.json()["state"]) == (
        "recompute_assessments",
        "queued",
    )
    body = client.get(f"/api/jobs/{job.pk}/").json()
    assert (body["kind"], body["study"], body["state"], body["done"], body["total"]) == (
        "recompute_assessments",
        "NCT05471050",
        "done",
        2,
        2,
    )
    assert body["result"] == {"patients": 2, "changed": 2}
    assert all(a.visits for a in PatientAssessment.objects.all())
    reasons = set(
        PatientAssessment.history.filter(history_user=dora).values_list(
            "history_change_reason", flat=True
        )
    )
    assert reasons == {f"Endpoints recomputed: recompute_assessments (job {job.pk})"}


@pytest.mark.parametrize(
    ("role", "sites", "status"),
    [
        ("data_manager", ["PKUPH"], 403),  # not over all sites
        ("statistician", None, 403),
        ("monitor", None, 403),
        ("coordinator", ["PKUPH"], 403),
    ],
)
def test_recomputing_needs_a_data_manager_over_all_sites(
    multisite_study, make_user, client_for, role, sites, status
):
    client = client_for(make_user("ulla", role, "NCT03304288", sites))
    response = client.post(f"/api/studies/{multisite_study.pk}/recompute/")
    assert response.status_code == status
    assert not Job.objects.exists()


def test_recomputing_a_study_out_of_reach_is_404(study, multisite_study, make_user, client_for):
    client = client_for(make_user("dora", "data_manager", "NCT03304288"))
    assert client.post(f"/api/studies/{study.pk}/recompute/").status_code == 404
    assert not Job.objects.exists()


def test_the_schema_says_a_job_may_name_no_study():
    """An import whose rows name no study is a job of no study (`"study": null`): the schema
    must say so, or a generated client refuses the answer (schemathesis found it)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    properties = schema["components"]["schemas"]["Job"]["properties"]
    assert (properties["study"].get("nullable"), properties["site"].get("nullable")) == (
        True,
        True,
    )
