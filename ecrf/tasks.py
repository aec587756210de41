"""The task queue's one task: run a job by its id (`ecrf.jobs`). huey's Django integration finds
this module in every installed app; the worker is `manage.py run_huey`."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from ecrf.jobs import run_job


@db_task()
def run_job_task(job_id: int) -> None:
    run_job(job_id)
