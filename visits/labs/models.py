"""Laboratory results: one row per test (never one wide table per panel)."""

from __future__ import annotations

from django.db import models

from ecrf.display import plain_number
from ecrf.domain.units import RangeIndicator
from ecrf.models import AuditedModel, ClinicalRecord

DEFAULT_LABORATORY = "main"


# CDISC LBNRIND: the values are the domain's `RangeIndicator`; only the labels are the admin's.
RANGE_INDICATOR_CHOICES = [
    (RangeIndicator.LOW.value, "Below the lower limit"),
    (RangeIndicator.NORMAL.value, "Within the reference range"),
    (RangeIndicator.HIGH.value, "Above the upper limit"),
]


class RangeSource(models.TextChoices):
    RESULT = "result", "Sent with the result"
    RANGE_TABLE = "range_table", "The site laboratory's range table"
    NONE = "", "No reference range"


class LabResult(ClinicalRecord):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="lab_results"
    )
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="lab_results"
    )
    collected_at = models.DateTimeField()
    test_code = models.CharField(max_length=10, help_text="CDISC LBTESTCD, e.g. PLAT, HGB, ALT.")
    laboratory = models.CharField(
        max_length=100,
        default=DEFAULT_LABORATORY,
        help_text="The site laboratory that measured it (selects its reference-range table).",
    )
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
        max_length=20,
        blank=True,
        choices=RangeSource.choices,
        help_text="'result' (sent with it), 'range_table' or empty.",
    )
    reference_range = models.ForeignKey(
        "labs.ReferenceRange",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lab_results",
        help_text="The range-table row the limits came from (range_source 'range_table').",
    )
    # Derived on every write and stored, so that lists are plain reads.
    indicator = models.CharField(max_length=10, blank=True, choices=RANGE_INDICATOR_CHOICES)
    times_uln = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # The CTCAE v5.0 grade the value suggests (the investigator's AE grade is the grade of record).
    ctcae_term = models.CharField(max_length=200, blank=True)
    ctcae_meddra_code = models.CharField(max_length=8, blank=True)
    ctcae_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    ctcae_basis = models.CharField(max_length=200, blank=True)
    ctcae_note = models.CharField(
        max_length=300, blank=True, help_text="Why no suggestion is given, when there is none."
    )
    baseline_result = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The baseline the CTCAE suggestion was graded against (abnormal-baseline rule).",
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
            ),
            models.CheckConstraint(
                condition=models.Q(lln__isnull=True)
                | models.Q(uln__isnull=True)
                | models.Q(lln__lte=models.F("uln")),
                name="lab_result_lln_not_above_uln",
                violation_error_message="The lower limit is above the upper limit.",
            ),
            models.CheckConstraint(
                condition=models.Q(ctcae_grade__isnull=True) | models.Q(ctcae_grade__lte=5),
                name="lab_result_ctcae_grade_0_5",
            ),
        ]

    def __str__(self) -> str:
        day = f"{self.collected_at:%Y-%m-%d}"
        return f"{self.patient} {self.test_code} {plain_number(self.value)} {self.unit} ({day})"


class ReferenceRange(AuditedModel):
    """A site laboratory's reference range for one test, sex and age band, over a period."""

    site = models.ForeignKey(
        "trials.Site", on_delete=models.PROTECT, related_name="reference_ranges"
    )
    laboratory = models.CharField(max_length=100, default=DEFAULT_LABORATORY)
    test_code = models.CharField(max_length=10)
    sex = models.CharField(max_length=1, blank=True, help_text="F, M, or empty for both.")
    age_min_years = models.PositiveSmallIntegerField(default=0)
    age_max_years = models.PositiveSmallIntegerField(
        default=150, help_text="Inclusive: 64 covers everyone up to the day before 65."
    )
    unit = models.CharField(max_length=30)
    lln = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    uln = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    effective_from = models.DateField()
    effective_to = models.DateField(
        null=True, blank=True, help_text="Last day the range applies; empty = still in use."
    )

    class Meta:
        ordering = ["site", "laboratory", "test_code", "effective_from"]
        indexes = [models.Index(fields=["site", "laboratory", "test_code"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(age_min_years__lte=models.F("age_max_years")),
                name="reference_range_age_band_ordered",
                violation_error_message="The age band's minimum is above its maximum.",
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="reference_range_period_ordered",
                violation_error_message="The range ends before it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(lln__isnull=True)
                | models.Q(uln__isnull=True)
                | models.Q(lln__lte=models.F("uln")),
                name="reference_range_lln_not_above_uln",
                violation_error_message="The lower limit is above the upper limit.",
            ),
            models.CheckConstraint(
                condition=models.Q(lln__isnull=False) | models.Q(uln__isnull=False),
                name="reference_range_has_a_limit",
                violation_error_message="Give a lower limit, an upper limit or both.",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.site.code}/{self.laboratory} {self.test_code} "
            f"{plain_number(self.lln)}-{plain_number(self.uln)} {self.unit}"
        )
