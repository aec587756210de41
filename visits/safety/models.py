"""Safety data: the CTCAE term dictionary, adverse events and per-drug causality."""

from __future__ import annotations

import datetime as dt

from django.db import models

from ecrf.models import AuditedModel, ClinicalRecord

GRADES = (1, 2, 3, 4, 5)
# ICH E2A: the sponsor must hear of a serious adverse event within 24 hours of site awareness.
SAE_REPORTING_WINDOW = dt.timedelta(hours=24)


class TermSource(models.TextChoices):
    BUILTIN = "builtin", "Built-in curated set"
    NCI = "nci", "Official NCI workbook"


class CtcaeTerm(AuditedModel):
    """One CTCAE term; a grade text of null means the grade does not exist for the term."""

    # Not `version`: that name is the optimistic-lock counter of every audited record.
    ctcae_version = models.CharField(max_length=10, default="5.0")
    meddra_code = models.CharField(max_length=8)
    soc = models.CharField(max_length=200, help_text="MedDRA system organ class.")
    term = models.CharField(max_length=200)
    # Null, not "": a grade that does not exist for the term ("-" in the NCI sheet) is a
    # different thing from an empty text.
    grade1 = models.TextField(null=True, blank=True)  # noqa: DJ001
    grade2 = models.TextField(null=True, blank=True)  # noqa: DJ001
    grade3 = models.TextField(null=True, blank=True)  # noqa: DJ001
    grade4 = models.TextField(null=True, blank=True)  # noqa: DJ001
    grade5 = models.TextField(null=True, blank=True)  # noqa: DJ001
    definition = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=TermSource.choices)

    class Meta:
        ordering = ["ctcae_version", "soc", "term"]
        constraints = [
            models.UniqueConstraint(
                fields=["ctcae_version", "meddra_code"], name="ctcae_code_unique"
            ),
            models.UniqueConstraint(fields=["ctcae_version", "term"], name="ctcae_term_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.term} [{self.meddra_code}] (CTCAE v{self.ctcae_version})"

    def grade_text(self, grade: int) -> str | None:
        return getattr(self, f"grade{grade}") if grade in GRADES else None

    @property
    def existing_grades(self) -> list[int]:
        return [grade for grade in GRADES if self.grade_text(grade) is not None]


class Outcome(models.TextChoices):
    """CDISC AEOUT."""

    RECOVERED = "recovered", "Recovered/resolved"
    RECOVERING = "recovering", "Recovering/resolving"
    NOT_RECOVERED = "not_recovered", "Not recovered/not resolved"
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", "Recovered/resolved with sequelae"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


# Outcomes that mean the event has ended (and so has a resolution date).
ENDED_OUTCOMES = frozenset({Outcome.RECOVERED, Outcome.RECOVERED_WITH_SEQUELAE, Outcome.FATAL})

# Seriousness criteria (ICH E2A), as model field → API name.
SERIOUSNESS_FIELDS = {
    "serious_death": "death",
    "serious_life_threatening": "life_threatening",
    "serious_hospitalisation": "hospitalisation",
    "serious_disability": "disability",
    "serious_congenital_anomaly": "congenital_anomaly",
    "serious_other_important": "other_important",
}


class AdverseEvent(ClinicalRecord):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="adverse_events"
    )
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    term = models.ForeignKey(CtcaeTerm, on_delete=models.PROTECT, related_name="adverse_events")
    verbatim = models.TextField(help_text="The event as the investigator described it.")
    onset_date = models.DateField()
    resolution_date = models.DateField(null=True, blank=True)
    grade = models.PositiveSmallIntegerField(help_text="The investigator's CTCAE grade.")
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    is_serious = models.BooleanField(default=False)
    serious_death = models.BooleanField(default=False)
    serious_life_threatening = models.BooleanField(default=False)
    serious_hospitalisation = models.BooleanField(default=False)
    serious_disability = models.BooleanField(default=False)
    serious_congenital_anomaly = models.BooleanField(default=False)
    serious_other_important = models.BooleanField(default=False)
    site_aware_at = models.DateTimeField(
        null=True, blank=True, help_text="When the site became aware of the SAE."
    )
    lab_result = models.ForeignKey(
        "labs.LabResult",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The lab result the event was recorded from, if any.",
    )

    class Meta:
        ordering = ["patient", "onset_date", "pk"]
        indexes = [models.Index(fields=["patient", "onset_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=5),
                name="ae_grade_1_5",
                violation_error_message="CTCAE grades run from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=models.Q(resolution_date__isnull=True)
                | models.Q(resolution_date__gte=models.F("onset_date")),
                name="ae_resolution_not_before_onset",
                violation_error_message="The resolution date is before the onset date.",
            ),
            models.CheckConstraint(
                condition=models.Q(is_serious=False) | models.Q(site_aware_at__isnull=False),
                name="sae_has_site_awareness",
                violation_error_message="A serious adverse event needs the time the site "
                "became aware of it.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} {self.term.term} grade {self.grade} ({self.onset_date})"

    @property
    def seriousness_criteria(self) -> list[str]:
        return [name for field, name in SERIOUSNESS_FIELDS.items() if getattr(self, field)]

    @property
    def reporting_deadline(self) -> dt.datetime | None:
        """The SAE must reach the sponsor within 24 hours of the site becoming aware."""
        if not self.is_serious or self.site_aware_at is None:
            return None
        return self.site_aware_at + SAE_REPORTING_WINDOW


class Causality(models.TextChoices):
    UNRELATED = "unrelated", "Unrelated"
    UNLIKELY = "unlikely", "Unlikely"
    POSSIBLE = "possible", "Possible"
    PROBABLE = "probable", "Probable"
    DEFINITE = "definite", "Definite"


class ActionTaken(models.TextChoices):
    """CDISC AEACN."""

    DOSE_NOT_CHANGED = "dose_not_changed", "Dose not changed"
    DOSE_REDUCED = "dose_reduced", "Dose reduced"
    DOSE_INCREASED = "dose_increased", "Dose increased"
    DRUG_INTERRUPTED = "drug_interrupted", "Drug interrupted"
    DRUG_WITHDRAWN = "drug_withdrawn", "Drug withdrawn"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    UNKNOWN = "unknown", "Unknown"


class AdverseEventDrugAssessment(ClinicalRecord):
    """Causality and action taken for one study drug of the patient's arm."""

    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, related_name="drug_assessments"
    )
    drug = models.CharField(max_length=100, help_text="A drug of the patient's arm regimens.")
    causality = models.CharField(max_length=20, choices=Causality.choices)
    action_taken = models.CharField(max_length=30, choices=ActionTaken.choices)

    class Meta:
        ordering = ["adverse_event", "drug"]
        constraints = [
            models.UniqueConstraint(
                fields=["adverse_event", "drug"],
                condition=models.Q(is_voided=False),
                name="one_assessment_per_ae_and_drug",
                violation_error_message="This drug is already assessed for this event.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.adverse_event}: {self.drug} {self.causality}"
