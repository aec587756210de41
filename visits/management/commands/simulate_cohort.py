"""Creates a simulated cohort in a study through the product's services (demo, benchmarks).

python manage.py simulate_cohort NCT05471050 --patients 40 --seed 7
python manage.py simulate_cohort --all-empty --patients 8   # each study without patients yet
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from ecrf.exceptions import ServiceError
from trials.models import Study
from visits.simulation import DEFAULT_START, simulate_cohort


class Command(BaseCommand):
    help = "Simulate a cohort (screening to follow-up) deterministically for a seed."

    def add_arguments(self, parser):
        parser.add_argument("registry_id", nargs="?", help="the study, e.g. NCT05471050")
        parser.add_argument(
            "--all-empty",
            action="store_true",
            help="every loaded study that has no patient yet (the quick start's demo)",
        )
        parser.add_argument("--patients", type=int, default=20)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--start",
            type=dt.date.fromisoformat,
            default=DEFAULT_START,
            help=f"first screening date (default {DEFAULT_START})",
        )

    def handle(self, *args, **options):
        if options["patients"] < 1:
            raise CommandError("--patients must be at least 1.")
        if options["all_empty"]:
            if options["registry_id"]:
                raise CommandError("Name a study or give --all-empty, not both.")
            studies = list(Study.objects.filter(patients__isnull=True).order_by("registry_id"))
        else:
            study = Study.objects.filter(registry_id=options["registry_id"] or "").first()
            if study is None:
                raise CommandError(f"Unknown study {options['registry_id']!r}.")
            studies = [study]
        for study in studies:
            self._simulate(study, options)

    def _simulate(self, study: Study, options: dict) -> None:
        started = time.monotonic()
        try:
            summary = simulate_cohort(
                study, patients=options["patients"], seed=options["seed"], start=options["start"]
            )
        except ServiceError as exc:
            raise CommandError(f"{study.registry_id}: {exc}") from exc
        arms = ", ".join(f"{code} {n}" for code, n in sorted(summary.by_arm.items()))
        self.stdout.write(
            f"{study.registry_id}: {summary.screened} screened, {summary.screen_failures} screen "
            f"failures, {summary.allocated} allocated ({arms}); {summary.visits_completed} visits "
            f"completed, {summary.visits_missed} missed; {summary.lab_results} lab results, "
            f"{summary.bleeding_assessments} bleeding assessments, {summary.rescue_therapies} "
            f"rescue therapies, {summary.adverse_events} adverse events "
            f"({time.monotonic() - started:.0f} s)."
        )
