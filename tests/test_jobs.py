"""Background jobs (issue 12): a full recompute and a lab import run as jobs on the task queue
(huey, immediate here: no Redis), each with a record of kind, study, state, progress, result or
error, who and when; readable in the API within the reader's study and sites."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from ecrf.exceptions import InvalidInput
from ecrf.jobs import create_job, enqueue, run_job
from ecrf.models import Job, JobState
from visits.endpoints.models import PatientAssessment
from visits.simulation import simulate_cohort

pytestmark = pytest.mark.django_db

HEADER = "patient,test_code,value,unit,lln,uln,collected_at,accession,visit\n"


def test_a_recompute_runs_as_a_job_with_its_progress_and_result(study, make_user):
    simulate_cohort(study, patients=2, seed=3)
    PatientAssessment.objects.update(visits=[])  # stale: the recompute must restore them
    make_user("dora", "data_manager", "NCT05471050")
    out, err = StringIO(), StringIO()
    call_command("recompute_assessments", "NCT05471050", "--user", "dora", stdout=out, stderr=err)
    job = Job.objects.get()
    assert (job.kind, job.study.registry_id, job.site, job.state) == (
        "recompute_assessments",
        "NCT05471050",
        None,
        JobState.DONE,
    )
    assert (job.done, job.total, job.result, job.error) == (2, 2, {"patients": 2, "changed": 2}, "")
    assert job.requested_by.username == "dora"
    assert job.created_at <= job.started_at <= job.finished_at
    assert out.getvalue().startswith("NCT05471050: 2 patients reassessed, 2 changed, in ")
    assert out.getvalue().rstrip().endswith(f"(job {job.pk}).")
    assert "] 2/2 patients" in err.getvalue()
    assert all(a.visits for a in PatientAssessment.objects.all())
    history = PatientAssessment.history.filter(history_user__username="dora")
    assert {h.history_change_reason for h in history} == {
        f"Endpoints recomputed: recompute_assessments (job {job.pk})"
    }


def test_a_lab_import_runs_as_a_job_and_a_refused_one_keeps_its_errors(
    tmp_path, study, make_patient, make_user
):
    patient = make_patient(study, "PKUPH")
    make_user("cora", "coordinator", "NCT05471050", ["PKUPH"])
    good = tmp_path / "good.csv"
    good.write_text(
        HEADER + f"{patient.subject_id},PLAT,85,10^9/L,150,400,2025-03-04T08:30:00Z,A-1,\n"
    )
    call_command("import_lab_results", str(good), "--user", "cora", "--study", "NCT05471050",
                 stdout=StringIO(), stderr=StringIO())  # fmt: skip
    job = Job.objects.get()
    assert (job.kind, job.state, job.done, job.total, job.study_id) == (
        "lab_import",
        JobState.DONE,
        1,
        1,
        study.pk,
    )
    assert job.result == {
        "source": "good.csv",
        "created": 1,
        "skipped": 0,
        "failed": 0,
        "errors": [],
    }
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + f"{patient.subject_id},PLAT,-85,10^9/L,150,400,2025-03-05T08:30:00Z,A-2,\n"
    )
    with pytest.raises(CommandError) as refused:
        call_command("import_lab_results", str(bad), "--user", "cora", stdout=StringIO(),
                     stderr=StringIO())  # fmt: skip
    failed = Job.objects.exclude(pk=job.pk).get()
    assert failed.state == JobState.FAILED
    assert failed.error == "1 of 1 rows have errors; nothing was imported."
    assert str(refused.value) == f"{failed.error} (bad.csv)"
    assert [e["field"] for e in failed.result["errors"]] == ["rows.0.value"]
    assert patient.lab_results.count() == 1


def test_a_queued_job_starts_when_its_transaction_commits(
    study, make_user, django_capture_on_commit_callbacks
):
    simulate_cohort(study, patients=1, seed=4)
    actor = make_user("dora", "data_manager", "NCT05471050")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        job = enqueue(
            create_job(kind="recompute_assessments", study=study, actor=actor, parameters={})
        )
        assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (JobState.DONE, 1, 1)
    # Delivered twice (a retry), it does not run twice.
    assert run_job(job.pk).finished_at == job.finished_at


def test_an_unknown_kind_is_refused(study):
    with pytest.raises(InvalidInput) as refused:
        create_job(kind="backup", study=study, actor=None, parameters={})
    assert refused.value.field == "kind"
    assert not Job.objects.exists()


def test_jobs_in_the_api_are_scoped_by_study_and_site(
    multisite_study, study, make_patient, make_user, client_for
):
    pkuph = multisite_study.sites.get(code="PKUPH")
    site_job = Job.objects.create(kind="lab_import", study=multisite_study, site=pkuph, done=3,
                                  total=3, state=JobState.DONE, result={"created": 3})  # fmt: skip
    study_job = Job.objects.create(kind="recompute_assessments", study=multisite_study)
    other_study_job = Job.objects.create(kind="recompute_assessments", study=study)

    def ids(client) -> list[int]:
        response = client.get("/api/jobs/")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    manager = client_for(make_user("dora", "data_manager", "NCT03304288"))
    assert ids(manager) == [study_job.pk, site_job.pk]  # newest first
    investigator = client_for(make_user("ivy", "investigator", "NCT03304288", ["PKUPH"]))
    assert ids(investigator) == [site_job.pk]
    detail = investigator.get(f"/api/jobs/{site_job.pk}/").json()
    assert {
        k: detail[k] for k in ("kind", "study", "site", "state", "done", "total", "result")
    } == {
        "kind": "lab_import",
        "study": "NCT03304288",
        "site": "PKUPH",
        "state": "done",
        "done": 3,
        "total": 3,
        "result": {"created": 3},
    }
    assert investigator.get(f"/api/jobs/{study_job.pk}/").status_code == 404
    outsider = client_for(make_user("olga", "investigator", "NCT03304288", ["BJH"]))
    assert ids(outsider) == []
    assert outsider.get(f"/api/jobs/{site_job.pk}/").status_code == 404
    assert manager.get(f"/api/jobs/{other_study_job.pk}/").status_code == 404
