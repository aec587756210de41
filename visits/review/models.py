"""Data management: queries on recorded data, and freezes and locks of it.

Both are audited tables (`ecrf.models.AuditedModel`): every step — raised, answered, closed,
re-opened, frozen, unfrozen — is a history row with its user, time (UTC) and reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ecrf.models import AuditedModel


class QueryStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class Query(AuditedModel):
    """A question about a record (optionally one field of it) or a visit, to the site.

    `resource` names the record as the API's paths do (`lab-results`, `visits`, ...), so the
    query points at `/api/<resource>/<record_id>/`. A query raised by an edit check has no
    `raised_by` (the system raised it) and names its `edit_check`.
    """

    study = models.ForeignKey("trials.Study", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("trials.Site", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="data_queries"
    )
    resource = models.CharField(max_length=40)
    record_id = models.PositiveBigIntegerField()
    field = models.CharField(max_length=60, blank=True)
    text = models.TextField()
    status = models.CharField(max_length=10, choices=QueryStatus.choices, default="open")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: raised by an edit check (the system).",
    )
    edit_check = models.CharField(max_length=60, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "queries"
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "status"]),
            models.Index(fields=["study", "site", "status"]),
            models.Index(fields=["resource", "record_id"]),
        ]

    def __str__(self) -> str:
        where = f"{self.resource}/{self.record_id}" + (f".{self.field}" if self.field else "")
        return f"Query {self.pk} on {where} ({self.status})"


class LockKind(models.TextChoices):
    FREEZE = "freeze", "Freeze"
    LOCK = "lock", "Lock"


class LockScope(models.TextChoices):
    STUDY = "study", "Whole study"
    PATIENT = "patient", "Patient"
    VISIT = "visit", "Visit"


class DataLock(AuditedModel):
    """A freeze (of a visit or a patient) or a lock (of a patient or the whole study): while
    active, no write to the data it covers is accepted (409 naming it). Released, it stays."""

    kind = models.CharField(max_length=10, choices=LockKind.choices)
    scope = models.CharField(max_length=10, choices=LockScope.choices)
    study = models.ForeignKey("trials.Study", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    is_active = models.BooleanField(default=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(
                fields=["patient"], condition=models.Q(is_active=True), name="active_lock_patient"
            ),
            models.Index(
                fields=["study", "scope"],
                condition=models.Q(is_active=True),
                name="active_lock_study",
            ),
            models.Index(
                fields=["visit"], condition=models.Q(is_active=True), name="active_lock_visit"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="study", patient__isnull=True, visit__isnull=True)
                    | models.Q(scope="patient", patient__isnull=False, visit__isnull=True)
                    | models.Q(scope="visit", patient__isnull=False, visit__isnull=False)
                ),
                name="data_lock_target_matches_scope",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="freeze", scope__in=["visit", "patient"])
                    | models.Q(kind="lock", scope__in=["patient", "study"])
                ),
                name="data_lock_kind_fits_scope",
            ),
        ]

    def __str__(self) -> str:
        target = {
            "study": f"study {self.study_id}",
            "patient": f"patient {self.patient_id}",
            "visit": f"visit {self.visit_id} of patient {self.patient_id}",
        }[self.scope]
        return f"{self.get_kind_display()} {self.pk} of {target}"


class Signature(AuditedModel):
    """An investigator's electronic signature of a patient's casebook or of one visit
    (21 CFR Part 11 §11.50, §11.70): who (printed name), when (UTC), what it means, and the
    records it binds — each record's id and version as they stood, and their SHA-256."""

    study = models.ForeignKey("trials.Study", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("trials.Site", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="signatures"
    )
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=300)
    meaning = models.CharField(max_length=300)
    signed_at = models.DateTimeField(default=timezone.now)
    # [[resource, record id, version], ...] sorted by resource and id: what was signed.
    signed_records = models.JSONField()
    records_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["patient", "signed_at"])]

    def __str__(self) -> str:
        return f"Signature {self.pk} of {self.patient_id} by {self.printed_name}"


class SourceVerification(AuditedModel):
    """A monitor's mark that a record agrees with the source documents, bound to the record's
    version. A later change of the record (an update or a void) clears the mark: `cleared_at`,
    `cleared_by` and the change's reason say why; the record must be verified again."""

    study = models.ForeignKey("trials.Study", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("trials.Site", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="source_verifications"
    )
    resource = models.CharField(max_length=40)
    record_id = models.PositiveBigIntegerField()
    record_version = models.PositiveIntegerField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(default=timezone.now)
    is_cleared = models.BooleanField(default=False)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cleared_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-verified_at", "-id"]
        indexes = [
            models.Index(fields=["resource", "record_id"]),
            models.Index(fields=["study", "site"]),
            models.Index(fields=["patient"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "record_id"],
                condition=models.Q(is_cleared=False),
                name="one_standing_verification_per_record",
            )
        ]

    def __str__(self) -> str:
        state = "cleared" if self.is_cleared else "verified"
        return f"SDV of {self.resource}/{self.record_id} v{self.record_version} ({state})"
