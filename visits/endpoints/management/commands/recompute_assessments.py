"""Recomputes the stored endpoint assessment of every allocated patient of a study, as a job.

    python manage.py recompute_assessments NCT05471050 [--user datamanager] [--queue]

The job (`GET /api/jobs/{id}/`, the admin's Jobs) runs here with a progress bar on stderr, or,
with `--queue`, on the task queue's worker (docker-compose's `worker`). Each patient is reassessed
in its own transaction, through the same refresh the write services use, so a long recompute
never holds locks on more than one patient at a time.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ecrf.jobs import ProgressBar, create_job, run_here_or_queue
from ecrf.models import JobState
from trials.models import Study
from visits.endpoints.jobs import RECOMPUTE


class Command(BaseCommand):
    help = "Recompute the endpoint assessments of a study's allocated patients (a job)."

    def add_arguments(self, parser):
        parser.add_argument("registry_id", help="the study, e.g. NCT05471050")
        parser.add_argument("--user", help="recorded as the user of the history rows")
        parser.add_argument(
            "--queue", action="store_true", help="hand the job to the worker and return"
        )

    def handle(self, *args, **options):
        study = Study.objects.filter(registry_id=options["registry_id"]).first()
        if study is None:
            raise CommandError(f"Unknown study {options['registry_id']!r}.")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"There is no user {options['user']!r}.")
        job = create_job(kind=RECOMPUTE, study=study, actor=actor, parameters={})
        job = run_here_or_queue(
            job, queue=options["queue"], progress=ProgressBar(self.stderr, "patients")
        )
        if options["queue"]:
            self.stdout.write(f"{study.registry_id}: job {job.pk} queued.")
            return
        if job.state != JobState.DONE:
            raise CommandError(f"job {job.pk} {job.state}: {job.error}")
        elapsed = (job.finished_at - job.started_at).total_seconds()
        self.stdout.write(
            f"{study.registry_id}: {job.result['patients']} patients reassessed, "
            f"{job.result['changed']} changed, in {elapsed:.1f} s (job {job.pk})."
        )
