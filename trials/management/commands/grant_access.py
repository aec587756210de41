from django.core.management.base import BaseCommand, CommandError

from ecrf.exceptions import ServiceError
from ecrf.models import Role
from trials.access_grants import grant_access


class Command(BaseCommand):
    help = (
        "Grant a user a role in a study, at the given sites (no --site: all sites of the study). "
        "Creates the user if needed."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--study", required=True, help="registry id, e.g. NCT05471050")
        parser.add_argument("--site", action="append", default=[], help="site code (repeatable)")
        parser.add_argument("--password", help="set the user's password")

    def handle(self, *args, **options):
        try:
            grant, created = grant_access(
                username=options["username"],
                role=options["role"],
                registry_id=options["study"],
                site_codes=options["site"],
                password=options["password"],
            )
        except ServiceError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        verb = "Created user and granted" if created else "Granted"
        self.stdout.write(
            f"{verb} {grant.user.username}: {grant.role} in {grant.study.registry_id} "
            f"({grant.scope_summary})"
        )
