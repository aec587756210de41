"""Stored endpoint assessments: recomputed whenever a patient's data change, audited."""

from __future__ import annotations

from django.db import models

from ecrf.models import AuditedModel


class PatientAssessment(AuditedModel):
    """The latest assessment of one patient under the study's current protocol version.

    Written in the same transaction as the data change that caused it, so reads are cheap and
    always current; each change of a result leaves a history row like any clinical record.
    """

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="assessment"
    )
    protocol_version = models.ForeignKey(
        "trials.ProtocolVersion", on_delete=models.PROTECT, related_name="+"
    )
    evaluated_on = models.DateField(help_text="The date the open time windows were judged at.")
    visits = models.JSONField(default=list, blank=True)
    endpoints = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["patient"]

    def __str__(self) -> str:
        return f"Assessment of {self.patient}"
