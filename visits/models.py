"""A patient's visit calendar: scheduled visits with windows, and unscheduled visits.

Only what was recorded is stored (scheduled, completed, missed); whether a scheduled visit is due
or overdue depends on today's date and is derived when read (visits.selectors).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ecrf.models import ClinicalRecord


class VisitStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed"


class Visit(ClinicalRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="visits")
    definition = models.ForeignKey(
        "trials.VisitDefinition",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
        help_text="Empty for an unscheduled visit.",
    )
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100, blank=True)
    unscheduled_number = models.PositiveIntegerField(null=True, blank=True)
    target_date = models.DateField(null=True, blank=True)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    actual_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=VisitStatus.choices, default=VisitStatus.SCHEDULED
    )
    out_of_window = models.BooleanField(
        default=False, help_text="Done outside its window: a protocol deviation."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["patient", "target_date", "actual_date", "code"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "code"], name="visit_code_per_patient"),
            models.UniqueConstraint(
                fields=["patient", "unscheduled_number"],
                condition=models.Q(unscheduled_number__isnull=False),
                name="unscheduled_number_per_patient",
            ),
            # A completed visit has its date; a scheduled or missed one has none.
            models.CheckConstraint(
                condition=(
                    models.Q(status="completed", actual_date__isnull=False)
                    | models.Q(status__in=["scheduled", "missed"], actual_date__isnull=True)
                ),
                name="visit_actual_date_matches_status",
            ),
            # Either a scheduled visit (definition, target, window) or a numbered unscheduled one.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        definition__isnull=False,
                        unscheduled_number__isnull=True,
                        target_date__isnull=False,
                        window_start__isnull=False,
                        window_end__isnull=False,
                    )
                    | models.Q(definition__isnull=True, unscheduled_number__isnull=False)
                ),
                name="visit_scheduled_or_unscheduled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} {self.code}"

    @property
    def is_unscheduled(self) -> bool:
        return self.unscheduled_number is not None
