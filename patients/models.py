"""Patients (study subjects). No direct identifiers are stored: a subject id, sex, birth date.

Also the two records that decide whether a patient may be allocated: informed consent and the
stored results of each eligibility evaluation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ecrf.domain.diagnoses import diagnosis_name
from ecrf.models import AuditedModel, ClinicalRecord


class PatientStatus(models.TextChoices):
    SCREENING = "screening", "Screening"
    SCREEN_FAILED = "screen_failed", "Screen failed"
    ELIGIBLE = "eligible", "Eligible"
    RANDOMIZED = "randomized", "Randomized"
    ENROLLED = "enrolled", "Enrolled"
    ON_TREATMENT = "on_treatment", "On treatment"
    FOLLOW_UP = "follow_up", "Follow-up"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ExitReason(models.TextChoices):
    """Why a patient left before allocation (screen failure) or after it (withdrawal).

    The CONSORT diagram counts patients by these codes; screen failures found by an eligibility
    evaluation are counted by the failed criterion codes instead.
    """

    DECLINED = "declined_to_participate", "Declined to participate"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn"
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    LACK_OF_EFFICACY = "lack_of_efficacy", "Lack of efficacy"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"
    PHYSICIAN_DECISION = "physician_decision", "Physician decision"
    PROTOCOL_DEVIATION = "protocol_deviation", "Protocol deviation"
    DEATH = "death", "Death"
    OTHER = "other", "Other"


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"


class Patient(ClinicalRecord):
    study = models.ForeignKey("trials.Study", on_delete=models.PROTECT, related_name="patients")
    site = models.ForeignKey("trials.Site", on_delete=models.PROTECT, related_name="patients")
    subject_id = models.CharField(max_length=40, editable=False)
    # Per-site running number behind the subject id; unique per site, so a race cannot
    # hand out the same number twice even if the site row lock were bypassed.
    site_sequence = models.PositiveIntegerField(editable=False)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_date = models.DateField()
    height_cm = models.DecimalField(max_digits=5, decimal_places=1)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    # One of the diagnoses the protocol version declares (required then), else empty; coded per
    # study, so the codes live in the protocol file rather than in `choices`.
    diagnosis = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text="Diagnosis code from the study's protocol (e.g. AIHA, PRCA, EVANS).",
    )
    status = models.CharField(
        max_length=20, choices=PatientStatus.choices, default=PatientStatus.SCREENING
    )
    screened_on = models.DateField()
    protocol_version = models.ForeignKey(
        "trials.ProtocolVersion",
        on_delete=models.PROTECT,
        related_name="patients",
        help_text="The protocol version the patient was screened under.",
    )
    arm = models.ForeignKey(
        "trials.Arm", null=True, blank=True, on_delete=models.PROTECT, related_name="patients"
    )
    day1 = models.DateField(
        null=True, blank=True, help_text="Randomization or enrolment date (study day 1)."
    )
    status_reason = models.TextField(blank=True)
    # Machine-readable reasons of the current status, so that reports can count them: the failed
    # criterion codes of a screen failure, or one ExitReason code.
    status_reason_codes = models.JSONField(default=list, blank=True)
    status_changed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["study__registry_id", "subject_id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "subject_id"], name="subject_id_unique"),
            models.UniqueConstraint(fields=["site", "site_sequence"], name="site_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(height_cm__gt=0) & models.Q(weight_kg__gt=0),
                name="patient_body_size_positive",
            ),
        ]
        indexes = [models.Index(fields=["study", "site", "status"])]

    def __str__(self) -> str:
        return self.subject_id

    @property
    def diagnosis_name(self) -> str:
        """The diagnosis as the protocol names it ('' when none is recorded)."""
        return diagnosis_name(self.protocol_version.diagnoses, self.diagnosis)


class Consent(ClinicalRecord):
    """Informed consent as signed: the date and the version of the consent form."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    consented_at = models.DateField(help_text="Date the consent form was signed.")
    consent_version = models.CharField(
        max_length=40, help_text="Version of the consent form signed, e.g. 2.1 of 2024-03-01."
    )

    class Meta:
        ordering = ["patient", "consented_at", "id"]

    def __str__(self) -> str:
        return f"{self.patient} consent {self.consent_version} on {self.consented_at}"


class EligibilityOutcomeStatus(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible"
    INELIGIBLE = "ineligible", "Ineligible"
    INCOMPLETE = "incomplete", "Incomplete (data or answers missing)"


class EligibilityAssessment(AuditedModel):
    """One evaluation of every criterion of a protocol version, stored as it was decided.

    Never updated: a re-evaluation after a correction is a new row, so the trail shows what was
    known and decided at each point.
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="eligibility_assessments"
    )
    protocol_version = models.ForeignKey(
        "trials.ProtocolVersion", on_delete=models.PROTECT, related_name="+"
    )
    evaluated_on = models.DateField(help_text="Date the data were evaluated as of (age, labs).")
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=EligibilityOutcomeStatus.choices)
    eligible = models.BooleanField()
    # Investigator answers in force for this evaluation ({code: true/false}) and who gave each.
    answers = models.JSONField(default=dict, blank=True)
    answered_by = models.JSONField(default=dict, blank=True)
    # [{code, kind, text, met, source, detail}] in protocol order.
    criteria = models.JSONField(default=list)

    class Meta:
        ordering = ["patient", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.patient} eligibility {self.status} on {self.evaluated_on}"

    @property
    def failed_codes(self) -> list[str]:
        return [c["code"] for c in self.criteria if criterion_fails(c)]

    @property
    def open_codes(self) -> list[str]:
        return [c["code"] for c in self.criteria if c["met"] is None]


def criterion_fails(result: dict) -> bool:
    """An inclusion criterion not met, or an exclusion criterion met."""
    if result["kind"] == "inclusion":
        return result["met"] is False
    return result["met"] is True
