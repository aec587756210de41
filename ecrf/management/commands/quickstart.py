"""One command from a fresh clone to a running service with the five shipped trials."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

# Everything is done by the apps' own commands, called by name: the project package imports no
# app of its own (see the import-linter layers contract in pyproject.toml).


DEMO_COHORT = 6  # patients simulated per trial on the first run


class Command(BaseCommand):
    help = (
        "Migrate, load the shipped protocols, create demo users and cohorts, and serve on "
        "127.0.0.1:8000."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="set up, then stop")
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args, **options):
        self.stdout.write("Migrating the database...")
        call_command("migrate", interactive=False, verbosity=0)
        # The shared cache of throttles lives in the database unless CACHE_URL names Redis.
        call_command("createcachetable", verbosity=0)
        self.stdout.write("Database migrated. Loading the shipped protocols...")
        call_command("load_protocol", all=True, stdout=self.stdout)
        self.stdout.write("Loading the CTCAE v5.0 dictionary...")
        # The full NCI dictionary (837 terms) ships in ecrf/data/ctcae; idempotent on re-runs.
        call_command("import_ctcae", stdout=self.stdout)
        self.stdout.write("Creating the demo users and allocation lists...")
        call_command("seed_demo", stdout=self.stdout)
        # Living trials to look at: a small cohort simulated through the services in each trial
        # that has no patient yet (the first run only; deterministic for the seed).
        self.stdout.write(
            f"Simulating a demo cohort ({DEMO_COHORT} patients) in each trial without patients..."
        )
        call_command(
            "simulate_cohort", all_empty=True, patients=DEMO_COHORT, seed=2026, stdout=self.stdout
        )
        if options["no_serve"]:
            self.stdout.write(self.style.SUCCESS("Ready. Start the server with `make run`."))
            return
        self.stdout.write(
            f"Serving on http://{options['addrport']}/ — admin /admin/, API /api/, docs /api/docs/"
        )
        call_command("runserver", options["addrport"], use_reloader=False)
