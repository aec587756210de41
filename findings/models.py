"""Clinical findings recorded at visits: performance status, vital signs, bleeding, scores..."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ecrf.models import ClinicalRecord


class EcogAssessment(ClinicalRecord):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="ecog_assessments"
    )
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_on = models.DateField()
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(5)]
    )

    class Meta:
        ordering = ["patient", "assessed_on"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=5), name="ecog_score_0_5")
        ]

    def __str__(self) -> str:
        return f"{self.patient} ECOG {self.score} on {self.assessed_on}"
