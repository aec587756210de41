"""Clinical findings recorded at visits: performance status, vital signs, bleeding, scores..."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ecrf.domain.scores import ESSDAI_DOMAINS
from ecrf.models import ClinicalRecord
from visits.findings.scales import ECOG_MAX, ESSPRI_ITEM_MAX, SMOG_MAXIMA, WHO_BLEEDING_MAX


class EcogAssessment(ClinicalRecord):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="ecog_assessments"
    )
    visit = models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_on = models.DateField()
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(ECOG_MAX)]
    )

    class Meta:
        ordering = ["patient", "assessed_on"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=5), name="ecog_score_0_5")
        ]

    def __str__(self) -> str:
        return f"{self.patient} ECOG {self.score} on {self.assessed_on}"


def _patient_fk(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name=related_name
    )


def _visit_fk() -> models.ForeignKey:
    return models.ForeignKey(
        "visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )


def _grade(maximum: int, **options) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(maximum)], **options
    )


class BleedingAssessment(ClinicalRecord):
    """WHO bleeding grade, optionally with the ITP-BAT domain grades (SMOG)."""

    patient = _patient_fk("bleeding_assessments")
    visit = _visit_fk()
    assessed_at = models.DateField()
    who_grade = _grade(WHO_BLEEDING_MAX)
    itp_bat_skin = _grade(SMOG_MAXIMA["itp_bat_skin"], null=True, blank=True)
    itp_bat_mucosal = _grade(SMOG_MAXIMA["itp_bat_mucosal"], null=True, blank=True)
    itp_bat_organ = _grade(SMOG_MAXIMA["itp_bat_organ"], null=True, blank=True)
    smog = models.CharField(
        max_length=12, blank=True, editable=False, help_text="Derived, e.g. S2M1O0."
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["patient", "assessed_at", "pk"]
        indexes = [models.Index(fields=["patient", "assessed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(who_grade__lte=WHO_BLEEDING_MAX), name="bleeding_who_0_4"
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__isnull": True})
                    | models.Q(**{f"{name}__lte": maximum}),
                    name=f"bleeding_{name}_max",
                )
                for name, maximum in SMOG_MAXIMA.items()
            ],
        ]

    def __str__(self) -> str:
        return f"{self.patient} WHO {self.who_grade} on {self.assessed_at}"


class TherapyKind(models.TextChoices):
    RESCUE = "rescue", "Rescue therapy"
    CONCOMITANT = "concomitant", "Concomitant therapy"
    # Red-cell transfusion: haemoglobin responses (AIHA/PRCA) need a transfusion-free interval.
    TRANSFUSION = "transfusion", "Red-cell transfusion"


class RescueTherapy(ClinicalRecord):
    """A rescue or concomitant treatment; `itp_directed` ones count against response."""

    patient = _patient_fk("rescue_therapies")
    started_at = models.DateField()
    stopped_at = models.DateField(null=True, blank=True)
    therapy = models.CharField(max_length=200)
    itp_directed = models.BooleanField()
    kind = models.CharField(max_length=20, choices=TherapyKind.choices, default=TherapyKind.RESCUE)
    indication = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["patient", "started_at", "pk"]
        verbose_name_plural = "rescue therapies"
        indexes = [models.Index(fields=["patient", "started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stopped_at__isnull=True)
                | models.Q(stopped_at__gte=models.F("started_at")),
                name="rescue_stopped_after_started",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} {self.therapy} from {self.started_at}"


class VitalSigns(ClinicalRecord):
    patient = _patient_fk("vital_signs")
    visit = _visit_fk()
    measured_on = models.DateField()
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["patient", "measured_on", "pk"]
        verbose_name_plural = "vital signs"
        indexes = [models.Index(fields=["patient", "measured_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(systolic_mmhg__isnull=True)
                | models.Q(diastolic_mmhg__isnull=True)
                | models.Q(diastolic_mmhg__lt=models.F("systolic_mmhg")),
                name="vitals_diastolic_below_systolic",
            ),
            models.CheckConstraint(
                condition=~models.Q(
                    systolic_mmhg__isnull=True,
                    diastolic_mmhg__isnull=True,
                    heart_rate_bpm__isnull=True,
                    temperature_c__isnull=True,
                    weight_kg__isnull=True,
                    height_cm__isnull=True,
                ),
                name="vitals_at_least_one_measurement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} vital signs on {self.measured_on}"


def _essdai_level(domain: str) -> models.PositiveSmallIntegerField:
    levels = ESSDAI_DOMAINS[domain].levels
    return models.PositiveSmallIntegerField(choices=[(level, str(level)) for level in levels])


class EssdaiAssessment(ClinicalRecord):
    """The twelve ESSDAI activity levels as entered; total and class computed by the server."""

    patient = _patient_fk("essdai_assessments")
    visit = _visit_fk()
    assessed_on = models.DateField()
    constitutional = _essdai_level("constitutional")
    lymphadenopathy = _essdai_level("lymphadenopathy")
    glandular = _essdai_level("glandular")
    articular = _essdai_level("articular")
    cutaneous = _essdai_level("cutaneous")
    pulmonary = _essdai_level("pulmonary")
    renal = _essdai_level("renal")
    muscular = _essdai_level("muscular")
    peripheral_nervous = _essdai_level("peripheral_nervous")
    central_nervous = _essdai_level("central_nervous")
    haematological = _essdai_level("haematological")
    biological = _essdai_level("biological")
    total = models.PositiveSmallIntegerField(editable=False)
    activity = models.CharField(max_length=10, editable=False)

    class Meta:
        ordering = ["patient", "assessed_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{f"{name}__in": domain.levels}),
                name=f"essdai_{name}_level",
            )
            for name, domain in ESSDAI_DOMAINS.items()
        ]

    def __str__(self) -> str:
        return f"{self.patient} ESSDAI {self.total} on {self.assessed_on}"


def _esspri_item() -> models.DecimalField:
    return models.DecimalField(
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(ESSPRI_ITEM_MAX)],
    )


class EsspriAssessment(ClinicalRecord):
    """The three patient-rated 0–10 scales; the score (their mean) computed by the server."""

    patient = _patient_fk("esspri_assessments")
    visit = _visit_fk()
    assessed_on = models.DateField()
    dryness = _esspri_item()
    fatigue = _esspri_item()
    pain = _esspri_item()
    score = models.DecimalField(max_digits=4, decimal_places=2, editable=False)

    class Meta:
        ordering = ["patient", "assessed_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{f"{item}__gte": 0, f"{item}__lte": ESSPRI_ITEM_MAX}),
                name=f"esspri_{item}_0_10",
            )
            for item in ("dryness", "fatigue", "pain")
        ]

    def __str__(self) -> str:
        return f"{self.patient} ESSPRI {self.score} on {self.assessed_on}"
