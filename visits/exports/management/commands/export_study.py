"""python manage.py export_study <registry id> --format csv|sdtm|odm [--as-of ...] --out DIR"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ecrf.validation import parse_date_or_datetime
from trials.models import Study
from visits.endpoints.selectors import end_of_cut
from visits.exports.models import ExportFormat
from visits.exports.service import start_export

FORMATS = [ExportFormat.CSV, ExportFormat.SDTM, ExportFormat.ODM]


class Command(BaseCommand):
    help = "Export a study's data (streamed to a file in DIR; a zip for the multi-file formats)."

    def add_arguments(self, parser):
        parser.add_argument("registry_id")
        parser.add_argument("--format", required=True, choices=[str(f) for f in FORMATS])
        parser.add_argument("--as-of", help="ISO date (end of that day, UTC) or datetime")
        parser.add_argument("--out", required=True, help="directory to write the file into")
        parser.add_argument("--user", help="the exporting user (logged); default: none")

    def handle(self, *args, **options):
        study = Study.objects.filter(registry_id=options["registry_id"]).first()
        if study is None:
            raise CommandError(f"Unknown study {options['registry_id']!r}.")
        as_of = None
        if options["as_of"]:
            raw = options["as_of"]
            parsed = parse_date_or_datetime(raw)
            if parsed is None:
                raise CommandError("--as-of must be an ISO date or datetime.")
            as_of = end_of_cut(parsed)
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"Unknown user {options['user']!r}.")
        else:
            # The command runs with the server's own rights: the log names no user.
            user = _SystemUser()
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        export = start_export(
            user=user, study=study, export_format=options["format"], as_of=as_of, channel="command"
        )
        target = out / export.filename
        started = time.monotonic()
        written = 0
        with target.open("wb") as handle:
            for chunk in export.chunks:
                handle.write(chunk)
                written += len(chunk)
                if chunk:
                    sys.stderr.write(f"\r{written / 1e6:.1f} MB written")
        sys.stderr.write("\n")
        elapsed = time.monotonic() - started
        self.stdout.write(f"{target} ({written} bytes, {elapsed:.1f} s)")


class _SystemUser:
    """The command line: every site of the study (like a superuser), no user in the log."""

    pk = None
    is_superuser = True
    is_authenticated = True
