"""Patients (study subjects). No direct identifiers are stored: a subject id, sex, birth date."""

from __future__ import annotations

from django.db import models

from ecrf.models import ClinicalRecord


class PatientStatus(models.TextChoices):
    SCREENING = "screening", "Screening"
    SCREEN_FAILED = "screen_failed", "Screen failed"
    ELIGIBLE = "eligible", "Eligible"
    RANDOMIZED = "randomized", "Randomized"
    ENROLLED = "enrolled", "Enrolled"
    ON_TREATMENT = "on_treatment", "On treatment"
    FOLLOW_UP = "follow_up", "Follow-up"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"


class Patient(ClinicalRecord):
    study = models.ForeignKey("trials.Study", on_delete=models.PROTECT, related_name="patients")
    site = models.ForeignKey("trials.Site", on_delete=models.PROTECT, related_name="patients")
    subject_id = models.CharField(max_length=40, editable=False)
    # Per-site running number behind the subject id; unique per site, so a race cannot
    # hand out the same number twice even if the site row lock were bypassed.
    site_sequence = models.PositiveIntegerField(editable=False)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_date = models.DateField()
    height_cm = models.DecimalField(max_digits=5, decimal_places=1)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    status = models.CharField(
        max_length=20, choices=PatientStatus.choices, default=PatientStatus.SCREENING
    )
    screened_on = models.DateField()
    protocol_version = models.ForeignKey(
        "trials.ProtocolVersion",
        on_delete=models.PROTECT,
        related_name="patients",
        help_text="The protocol version the patient was screened under.",
    )
    arm = models.ForeignKey(
        "trials.Arm", null=True, blank=True, on_delete=models.PROTECT, related_name="patients"
    )
    day1 = models.DateField(
        null=True, blank=True, help_text="Randomization or enrolment date (study day 1)."
    )
    status_reason = models.TextField(blank=True)
    status_changed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["study__registry_id", "subject_id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "subject_id"], name="subject_id_unique"),
            models.UniqueConstraint(fields=["site", "site_sequence"], name="site_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(height_cm__gt=0) & models.Q(weight_kg__gt=0),
                name="patient_body_size_positive",
            ),
        ]
        indexes = [models.Index(fields=["study", "site", "status"])]

    def __str__(self) -> str:
        return self.subject_id
