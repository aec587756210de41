"""Imports lab results from a CSV file, as a job (`GET /api/jobs/{id}/`, the admin's Jobs).

    python manage.py import_lab_results labs.csv --user cora [--study NCT05471050] [--partial]
        [--queue]

Runs here (the job's progress on stderr), or with `--queue` on the task queue's worker.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ecrf.exceptions import ServiceError
from ecrf.jobs import ProgressBar, create_job, run_here_or_queue
from ecrf.models import JobState
from trials.models import Study
from visits.labs.bulk import read_lab_csv
from visits.labs.jobs import LAB_IMPORT


class Command(BaseCommand):
    help = (
        "Import lab results from a CSV file with the columns patient (subject id), test_code, "
        "value, unit, collected_at, accession and optionally lln, uln, visit (code), laboratory. "
        "Idempotent on the accession; all or nothing unless --partial. Runs as a job."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .csv file (UTF-8)")
        parser.add_argument(
            "--user", required=True, help="who imports (audit trail; their site access applies)"
        )
        parser.add_argument("--study", help="registry id, when subject ids repeat across studies")
        parser.add_argument(
            "--partial", action="store_true", help="keep the good rows when some rows fail"
        )
        parser.add_argument(
            "--queue", action="store_true", help="hand the job to the worker and return"
        )

    def handle(self, *args, **options):
        actor = get_user_model().objects.filter(username=options["user"]).first()
        if actor is None:
            raise CommandError(f"user: no user {options['user']!r}")
        study = None
        if options["study"]:
            study = Study.objects.filter(registry_id=options["study"]).first()
            if study is None:
                raise CommandError(f"study: no study {options['study']!r}")
        path = Path(options["path"])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"path: cannot read {path}: {exc}") from exc
        try:
            read_lab_csv(text)  # a bad header is refused before any job exists
        except ServiceError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        job = create_job(
            kind=LAB_IMPORT,
            study=study,
            actor=actor,
            parameters={"csv": text, "source": path.name, "partial": options["partial"]},
        )
        job = run_here_or_queue(
            job, queue=options["queue"], progress=ProgressBar(self.stderr, "rows")
        )
        if options["queue"]:
            self.stdout.write(f"{path.name}: job {job.pk} queued.")
            return
        for error in (job.result or {}).get("errors", []):
            self.stderr.write(_describe(error))
        if job.state != JobState.DONE:
            raise CommandError(f"{job.error} ({path.name})")
        self.stdout.write(
            f"{path.name}: {job.result['created']} created, {job.result['skipped']} skipped "
            f"(already stored), {job.result['failed']} failed"
        )


def _describe(error: dict) -> str:
    column = (error.get("field") or "").split(".", 2)[-1] if error.get("field") else ""
    column = "" if column.startswith("rows") or column.isdigit() else f" [{column}]"
    return f"{error['message']}{column}"
