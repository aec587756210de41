"""Laboratory results: one row per test (never one wide table per panel)."""

from __future__ import annotations

from django.db import models

from ecrf.models import AuditedModel, ClinicalRecord


class LabResult(ClinicalRecord):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="lab_results"
    )
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="lab_results"
    )
    collected_at = models.DateTimeField()
    test_code = models.CharField(max_length=10, help_text="CDISC LBTESTCD, e.g. PLAT, HGB, ALT.")
    # As reported (LBORRES / LBORRESU / LBORNRLO / LBORNRHI).
    value = models.DecimalField(max_digits=14, decimal_places=4)
    unit = models.CharField(max_length=30)
    lln = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    uln = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # In the test's standard unit (LBSTRESN / LBSTRESU), with the range converted likewise.
    value_std = models.DecimalField(max_digits=14, decimal_places=4)
    unit_std = models.CharField(max_length=30)
    lln_std = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    uln_std = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    range_source = models.CharField(
        max_length=20, blank=True, help_text="'result' (sent with it), 'range_table' or empty."
    )
    source_accession = models.CharField(
        max_length=100, blank=True, help_text="The lab's accession id; makes imports idempotent."
    )

    class Meta:
        ordering = ["patient", "collected_at", "test_code"]
        indexes = [models.Index(fields=["patient", "test_code", "collected_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "test_code", "source_accession"],
                condition=~models.Q(source_accession=""),
                name="lab_accession_unique",
            )
        ]

    def __str__(self) -> str:
        day = f"{self.collected_at:%Y-%m-%d}"
        return f"{self.patient} {self.test_code} {self.value} {self.unit} ({day})"


class ReferenceRange(AuditedModel):
    """A site laboratory's reference range for one test, sex and age band, over a period."""

    site = models.ForeignKey(
        "trials.Site", on_delete=models.PROTECT, related_name="reference_ranges"
    )
    laboratory = models.CharField(max_length=100, default="main")
    test_code = models.CharField(max_length=10)
    sex = models.CharField(max_length=1, blank=True, help_text="F, M, or empty for both.")
    age_min_years = models.PositiveSmallIntegerField(default=0)
    age_max_years = models.PositiveSmallIntegerField(default=150)
    unit = models.CharField(max_length=30)
    lln = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    uln = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["site", "laboratory", "test_code", "effective_from"]

    def __str__(self) -> str:
        return (
            f"{self.site.code}/{self.laboratory} {self.test_code} {self.lln}-{self.uln} {self.unit}"
        )
