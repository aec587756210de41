"""Shared model bases and the access model (who may do what, in which study and sites).

Every concrete model that inherits `AuditedModel` gets its own django-simple-history table
(`inherit=True`), so no study-design or clinical table exists without an audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
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


# --- Authentication (issue 13): expiring API tokens and the security event log -------------


class ApiToken(models.Model):
    """An API token: stored as a SHA-256 digest (the key is shown once, at login).

    A token expires, is replaced by the next login, dies when the user's password changes
    (the fingerprint is Django's session hash of the password), and an administrator can
    revoke it. Not audited with history: logins and revocations go to `SecurityEvent`.
    """

    digest = models.CharField(max_length=64, unique=True, editable=False)
    # First characters of the key, so an administrator can tell tokens apart.
    prefix = models.CharField(max_length=8, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    password_fingerprint = models.CharField(max_length=128, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class SecurityEvent(models.Model):
    """Append-only log of logins, failed logins, lockouts, token revocations and grants.

    On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE of this table, as of every
    history table (migration 0004).
    """

    class Kind(models.TextChoices):
        LOGIN = "login", "Login"
        LOGIN_FAILED = "login_failed", "Failed login"
        LOCKOUT = "lockout", "Locked out"
        TOKEN_REVOKED = "token_revoked", "Token revoked"
        GRANT = "grant", "Role or site grant"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The name given, kept even when no such user exists (failed logins).
    username = models.CharField(max_length=150, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    client_address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=20, blank=True, help_text="admin, api, api-session")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"


class IdempotencyKey(models.Model):
    """The answer to a POST sent with an `Idempotency-Key` header (issue 11), so a retry with the
    same key and body gets the same answer and stores nothing new (ecrf/idempotency.py).

    Keys are per user; only successful (2xx) answers are kept, until `expires_at`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000, help_text="Path and query string of the request.")
    request_hash = models.CharField(
        max_length=64, help_text="SHA-256 of the body (canonical JSON when it parses)."
    )
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField(help_text="The answer's body as sent.")
    response_content_type = models.CharField(max_length=100)
    response_etag = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    """A long task (a lab import, a full recompute) run on the task queue (`ecrf.jobs`).

    An operational record, not clinical data: what it changes is audited by the services it runs
    (each written record keeps its history row and reason). Progress is written as it goes, so
    the API and the admin show how far a job is.
    """

    kind = models.CharField(max_length=40)
    # Null only for an import whose study was not named (then only administrators see the job).
    study = models.ForeignKey(
        "trials.Study", null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    # A job for one site's data; null for a study-wide job (seen by study-wide roles only).
    site = models.ForeignKey(
        "trials.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["study", "-created_at"], name="job_study_created")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"
