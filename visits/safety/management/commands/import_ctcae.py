from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ecrf.data import CTCAE_V5_WORKBOOK
from ecrf.domain.ctcae_import import parse_ctcae_workbook
from ecrf.domain.errors import DomainError
from visits.safety.services import ctcae_terms_import


class Command(BaseCommand):
    help = (
        "Load the full CTCAE term dictionary from the official NCI workbook (default: the "
        "CTCAE v5.0 workbook shipped in ecrf/data/ctcae). Idempotent: unchanged terms are left "
        "alone."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            default=str(CTCAE_V5_WORKBOOK),
            help="the .xlsx file (default: the shipped CTCAE v5.0 workbook)",
        )
        parser.add_argument("--ctcae-version", default="5.0")
        parser.add_argument("--user", help="username recorded in the audit trail")

    def handle(self, *args, **options):
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"user: no user {options['user']!r}")
        path = Path(options["path"])
        try:
            terms = parse_ctcae_workbook(path)
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        report = ctcae_terms_import(
            actor=actor, terms=terms, source_name=path.name, ctcae_version=options["ctcae_version"]
        )
        self.stdout.write(
            f"CTCAE v{options['ctcae_version']}: {report.total} terms in {path.name} — "
            f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"
        )
