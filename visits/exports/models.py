"""The export log: who exported which study, in which format and cut, when."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV per record table (zip)"
    SDTM = "sdtm", "SDTM-shaped datasets (zip of CSV)"
    ODM = "odm", "CDISC ODM 1.3.2 XML with audit records"
    CODEBOOK = "codebook", "Codebook (CSV)"
    AUDIT_LOG = "audit_log", "Audit log (CSV)"


class ExportLog(models.Model):
    """One row per export, written before the first byte leaves; never changed or deleted."""

    exported_at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    study = models.ForeignKey("trials.Study", on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=20, choices=ExportFormat.choices)
    as_of = models.DateTimeField(null=True, blank=True)
    # The sites the export covered ("all" for a study-wide grant), readable in the log.
    scope = models.CharField(max_length=500)
    channel = models.CharField(max_length=10, help_text="api, command or admin")
    parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-exported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} exported {self.study_id} as {self.format} at {self.exported_at}"
