import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.utils import OperationalError


class Command(BaseCommand):
    help = "Wait until the database accepts connections (used by the container entrypoint)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=int, default=60, help="seconds to wait at most")

    def handle(self, *args, **options):
        deadline = time.monotonic() + options["timeout"]
        while True:
            try:
                connection.ensure_connection()
            except OperationalError as exc:
                if time.monotonic() > deadline:
                    raise CommandError(f"database not reachable: {exc}") from exc
                self.stdout.write("waiting for the database ...")
                time.sleep(1)
                connection.close()
            else:
                self.stdout.write("database is up")
                return
