"""Shared model bases and the access model (who may do what, in which study and sites).

Every concrete model that inherits `AuditedModel` gets its own django-simple-history table
(`inherit=True`), so no study-design or clinical table exists without an audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class AuditedModel(models.Model):
    """Base of every audited table: timestamps (UTC), an optimistic-lock version, history."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Incremented on every audited update; a client must send the version it read, so two
    # people editing the same record can never silently overwrite each other.
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True


class ClinicalRecord(AuditedModel):
    """A clinical record is never deleted: it is voided with a reason and stays in history."""

    is_voided = models.BooleanField(default=False)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    void_reason = models.TextField(blank=True)

    class Meta:
        abstract = True


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Research coordinator"
    INVESTIGATOR = "investigator", "Investigator"
    MONITOR = "monitor", "Monitor"
    DATA_MANAGER = "data_manager", "Data manager"
    STATISTICIAN = "statistician", "Statistician"


class StudyRole(AuditedModel):
    """A user's role in one study, limited to some sites or covering all of them.

    Account and permission changes are audited like clinical data (ICH E6(R3)).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_roles"
    )
    study = models.ForeignKey("trials.Study", on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=Role.choices)
    all_sites = models.BooleanField(
        default=False, help_text="Study-wide: every current and future site of the study."
    )
    sites = models.ManyToManyField("trials.Site", blank=True, related_name="roles")
    # Readable copy of the site scope, so that scope changes show in the audit trail
    # (many-to-many changes are not history rows of their own).
    scope_summary = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "study", "role"], name="one_grant_per_user_study_role"
            )
        ]
        ordering = ["study__registry_id", "user__username", "role"]

    def __str__(self) -> str:
        scope = "all sites" if self.all_sites else "selected sites"
        return f"{self.user} — {self.get_role_display()} in {self.study} ({scope})"
