"""A patient's visit calendar: scheduled visits with windows, and unscheduled visits."""

from __future__ import annotations

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
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["patient", "target_date", "actual_date", "code"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "code"], name="visit_code_per_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.patient} {self.code}"
