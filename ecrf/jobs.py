"""Long tasks as jobs: a record anyone with access can follow, run on the task queue.

The queue is huey (`ecrf.tasks`): with Redis (`JOBS_REDIS_URL`, docker-compose's `worker`
service running `manage.py run_huey`) a job runs in the worker; without it (a laptop, the tests)
huey runs it immediately, in the process that started it. Either way the job's record says
where it is: queued, running with done/total, done with its result, or failed with the error.

What a kind of job does is registered by the app that owns the work, in its `AppConfig.ready()`
(`register_job_kind`), like `ecrf.after_write`: this module imports no app above it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ecrf.exceptions import InvalidInput, ServiceError
from ecrf.models import Job, JobState

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class JobKind:
    """`run(job, progress)` does the work and returns the job's result (JSON);
    `progress(done, total)` records how far it is."""

    name: str
    run: Callable[[Job, Progress], dict]


_kinds: dict[str, JobKind] = {}


def register_job_kind(name: str, run: Callable[[Job, Progress], dict]) -> JobKind:
    kind = JobKind(name=name, run=run)
    _kinds[name] = kind
    return kind


def job_kinds() -> list[str]:
    return sorted(_kinds)


def create_job(*, kind: str, study, actor, parameters: dict, site=None) -> Job:
    """The job's record, queued (not started)."""
    if kind not in _kinds:
        raise InvalidInput(
            f"Unknown job kind {kind!r}; known: {', '.join(job_kinds())}.", field="kind"
        )
    return Job.objects.create(
        kind=kind, study=study, site=site, requested_by=actor, parameters=parameters
    )


def enqueue(job: Job) -> Job:
    """Hands the job to the queue once the transaction that created it commits (a worker must
    find its record). With huey in immediate mode the job runs here and is finished on return."""
    from ecrf.tasks import run_job_task

    transaction.on_commit(lambda: run_job_task(job.pk))
    return job


def _record_progress(job_id: int) -> Progress:
    def progress(done: int, total: int | None) -> None:
        # Outside the job's own transactions (each unit of work commits on its own), so readers
        # see it at once.
        Job.objects.filter(pk=job_id).update(done=done, total=total)

    return progress


def run_job(job_id: int, *, progress: Progress | None = None) -> Job:
    """Runs a queued job to its end (called by the worker, or in-process): state, times,
    progress, result or error all land on the record. `progress` also hears each step (a
    command's progress bar)."""
    updated = Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, started_at=timezone.now()
    )
    job = Job.objects.select_related("study", "site", "requested_by").get(pk=job_id)
    if not updated:
        return job  # already run (a retried delivery): never run twice
    record = _record_progress(job_id)

    def step(done: int, total: int | None) -> None:
        record(done, total)
        if progress is not None:
            progress(done, total)

    try:
        result = _kinds[job.kind].run(job, step)
    except Exception as error:  # any failure ends the job, stated on its record
        if not isinstance(error, ServiceError):  # a refusal is the job's answer, not a fault
            logger.exception("Job %s (%s) failed", job_id, job.kind)
        Job.objects.filter(pk=job_id).update(
            state=JobState.FAILED,
            error=_describe(error),
            result={"errors": error.errors[:200]} if isinstance(error, ServiceError) else None,
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    Job.objects.filter(pk=job_id).update(
        state=JobState.DONE, result=result, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def run_here_or_queue(job: Job, *, queue: bool, progress: Progress | None = None) -> Job:
    """What a management command does with its job: hand it to the worker (`queue`), or run it
    in this process with a progress bar."""
    if queue:
        return enqueue(job)
    return run_job(job.pk, progress=progress)


class ProgressBar:
    """A one-line progress bar on a terminal; elsewhere (a log) a line per tenth done."""

    width = 30

    def __init__(self, stream, unit: str) -> None:
        self.stream = stream
        self.unit = unit
        self.started = time.monotonic()
        self.shown = -1

    def __call__(self, done: int, total: int | None) -> None:
        tenth = 10 * done // total if total else 10
        if not self.stream.isatty() and (done == 0 or tenth == self.shown) and done != total:
            return
        self.shown = tenth
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate and total else 0.0
        filled = self.width * done // total if total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        end = "" if self.stream.isatty() and done != total else "\n"
        self.stream.write(
            f"\r[{bar}] {done}/{total} {self.unit}  {rate:.1f}/s  ~{left:.0f} s left", ending=end
        )
        self.stream.flush()


def _describe(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    field = getattr(error, "field", None)
    return f"{field}: {message}" if field else message
