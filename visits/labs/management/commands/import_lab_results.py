from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ecrf.exceptions import ServiceError
from trials.models import Study
from visits.labs.bulk import ImportRejected, lab_results_import, read_lab_csv


class Command(BaseCommand):
    help = (
        "Import lab results from a CSV file with the columns patient (subject id), test_code, "
        "value, unit, collected_at, accession and optionally lln, uln, visit (code), laboratory. "
        "Idempotent on the accession; all or nothing unless --partial."
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
            report = lab_results_import(
                actor=actor,
                rows=read_lab_csv(text),
                source=path.name,
                study=study,
                partial=options["partial"],
            )
        except ImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(_describe(error))
            raise CommandError(f"{exc.message} ({path.name})") from exc
        except ServiceError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        for error in report.errors:
            self.stderr.write(_describe(error))
        self.stdout.write(
            f"{path.name}: {report.created} created, {report.skipped} skipped (already stored), "
            f"{report.failed} failed"
        )


def _describe(error: dict) -> str:
    column = (error.get("field") or "").split(".", 2)[-1] if error.get("field") else ""
    column = "" if column.startswith("rows") or column.isdigit() else f" [{column}]"
    return f"{error['message']}{column}"
