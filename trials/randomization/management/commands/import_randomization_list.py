from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ecrf.domain.errors import DomainError
from ecrf.exceptions import ServiceError
from trials.randomization.management.commands._common import command_error, describe, study_and_user
from trials.randomization.services import allocation_list_import


class Command(BaseCommand):
    help = (
        "Import a study's allocation list prepared by the trial statistician (CSV with columns "
        "number, stratum, arm; optional block, block_size). A stratum is the site code, or "
        "SITE|factor=level|... with the protocol's factors. Every row is checked; nothing is "
        "stored unless the whole file is valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("registry_id", help="e.g. NCT03304288")
        parser.add_argument("csv_file", help="path to the CSV file (UTF-8)")
        parser.add_argument("--user", required=True, help="username of who imports the list")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="retire the study's active list (only while no patient is randomized)",
        )

    def handle(self, *args, **options):
        study, user = study_and_user(options["registry_id"], options["user"])
        path = Path(options["csv_file"])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
        try:
            allocation_list = allocation_list_import(
                actor=user,
                study=study,
                csv_text=text,
                source_name=path.name,
                replace=options["replace"],
            )
        except (ServiceError, DomainError) as exc:
            raise command_error(exc) from exc
        self.stdout.write(describe(allocation_list))
