"""Recomputes the stored endpoint assessment of every allocated patient of a study.

    python manage.py recompute_assessments NCT05471050 [--user datamanager]

Each patient is reassessed in its own transaction (through the same refresh the write services
use), so a long recompute never holds locks on more than one patient at a time and a patient's
new data entry waits at most for that patient's recompute. Progress goes to stderr.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from patients.models import Patient
from trials.models import Study
from visits.endpoints.models import PatientAssessment
from visits.endpoints.services import refresh_patient_assessment


def progress_line(done: int, total: int, started: float) -> str:
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    left = (total - done) / rate if rate else 0.0
    width = 30
    filled = width * done // total if total else width
    bar = "#" * filled + "." * (width - filled)
    return f"\r[{bar}] {done}/{total} patients  {rate:.1f}/s  ~{left:.0f} s left"


class Command(BaseCommand):
    help = "Recompute the endpoint assessments of a study's allocated patients (progress bar)."

    def add_arguments(self, parser):
        parser.add_argument("registry_id", help="the study, e.g. NCT05471050")
        parser.add_argument("--user", help="recorded as the user of the history rows")

    def handle(self, *args, **options):
        study = Study.objects.filter(registry_id=options["registry_id"]).first()
        if study is None:
            raise CommandError(f"Unknown study {options['registry_id']!r}.")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"There is no user {options['user']!r}.")
        patient_ids = list(
            Patient.objects.filter(study=study, day1__isnull=False, is_voided=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        started = time.monotonic()
        changed = 0
        for done, patient_id in enumerate(patient_ids, start=1):
            before = _version(patient_id)
            refresh_patient_assessment(
                Patient(pk=patient_id), actor=actor, reason="recompute_assessments"
            )
            changed += _version(patient_id) != before
            if self.stderr.isatty() or done == len(patient_ids) or done % 50 == 0:
                self.stderr.write(progress_line(done, len(patient_ids), started), ending="")
                self.stderr.flush()
        if patient_ids:
            self.stderr.write("")
        self.stdout.write(
            f"{study.registry_id}: {len(patient_ids)} patients reassessed, {changed} changed, "
            f"in {time.monotonic() - started:.1f} s."
        )


def _version(patient_id: int) -> int | None:
    return (
        PatientAssessment.objects.filter(patient_id=patient_id)
        .values_list("version", flat=True)
        .first()
    )
