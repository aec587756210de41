"""Study design as versioned data.

A Study owns its sites and arms. Everything a protocol amendment can change (eligibility,
visit schedule, regimens, response criteria, endpoints) hangs off a ProtocolVersion, which is
never rewritten: loading a changed protocol file creates a new version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ecrf.models import AuditedModel


class Study(AuditedModel):
    class Design(models.TextChoices):
        RANDOMIZED = "randomized", "Randomized, parallel arms"
        SINGLE_ARM = "single_arm", "Single arm"

    class Status(models.TextChoices):
        NOT_YET_RECRUITING = "not_yet_recruiting", "Not yet recruiting"
        RECRUITING = "recruiting", "Recruiting"
        ACTIVE_NOT_RECRUITING = "active_not_recruiting", "Active, not recruiting"
        COMPLETED = "completed", "Completed"

    registry_id = models.CharField(max_length=32, unique=True)
    title = models.TextField()
    short_title = models.CharField(max_length=200)
    phase = models.CharField(max_length=20)
    design = models.CharField(max_length=20, choices=Design.choices)
    masking = models.CharField(max_length=40, default="open_label")
    status = models.CharField(max_length=30, choices=Status.choices)
    ctcae_version = models.CharField(max_length=10, default="5.0")
    target_enrollment = models.PositiveIntegerField()
    conditions = models.JSONField(default=list)
    sponsor = models.CharField(max_length=200, blank=True)
    other_ids = models.JSONField(default=list, blank=True)
    start_date = models.DateField(null=True, blank=True)
    randomization_scheme = models.JSONField(
        null=True, blank=True, help_text="Strata, stratification factors and block sizes."
    )
    source_file = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["registry_id"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return f"{self.registry_id} — {self.short_title}"

    @property
    def is_randomized(self) -> bool:
        return self.design == self.Design.RANDOMIZED

    def current_protocol(self) -> ProtocolVersion | None:
        return self.protocol_versions.order_by("-number").first()


class ProtocolVersion(AuditedModel):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="protocol_versions")
    number = models.PositiveIntegerField()
    label = models.CharField(
        max_length=40, blank=True, help_text="The version as the protocol file names it."
    )
    effective_date = models.DateField()
    summary_of_changes = models.TextField()
    content = models.JSONField(help_text="The full resolved protocol content of this version.")
    content_hash = models.CharField(max_length=64)
    response_criteria = models.JSONField(null=True, blank=True)
    ctcae_excluded_terms = models.JSONField(
        default=list, blank=True, help_text="Disease terms never suggested as adverse events."
    )
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["study__registry_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="protocol_version_unique")
        ]

    def __str__(self) -> str:
        # Naming a version never costs a query: the study's registry id when the study was
        # loaded along (select_related), its id otherwise.
        if ProtocolVersion.study.is_cached(self):
            return f"{self.study.registry_id} v{self.number}"
        return f"study #{self.study_id} v{self.number}"

    @property
    def assumptions(self) -> list[dict]:
        """Parameters this version sets that the registry text does not state, each with what it
        governs and its source (`ecrf.domain.assumptions`), in file order."""
        return list(self.content.get("assumptions", []))

    @property
    def diagnoses(self) -> list[dict]:
        """The diagnoses this version enrols, `{code, name, description}` in file order; empty
        when the study records no diagnosis (`ecrf.domain.diagnoses`)."""
        return list(self.content.get("diagnoses", []))


class Site(AuditedModel):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="sites")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["study__registry_id", "code"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="site_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Arm(AuditedModel):
    class ArmType(models.TextChoices):
        EXPERIMENTAL = "experimental", "Experimental"
        ACTIVE_COMPARATOR = "active_comparator", "Active comparator"
        SINGLE = "single", "Single arm"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="arms")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    arm_type = models.CharField(max_length=20, choices=ArmType.choices)
    description = models.TextField(blank=True)
    allocation_ratio = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["study__registry_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="arm_code_unique"),
            models.CheckConstraint(
                condition=models.Q(allocation_ratio__gte=1), name="arm_ratio_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class ProtocolPart(AuditedModel):
    """Something that belongs to one protocol version and is identified by a code within it."""

    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True


class Regimen(ProtocolPart):
    class DoseBasis(models.TextChoices):
        FIXED = "fixed", "Fixed dose (mg)"
        MG_PER_KG = "mg_per_kg", "mg per kg body weight"
        MG_PER_M2 = "mg_per_m2", "mg per m² body-surface area"

    class DosePeriod(models.TextChoices):
        ADMINISTRATION = "administration", "per administration"
        DAY = "day", "per day"

    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="regimens"
    )
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="regimens")
    code = models.CharField(max_length=40)
    drug = models.CharField(max_length=100)
    dose_basis = models.CharField(max_length=20, choices=DoseBasis.choices)
    dose_amount = models.DecimalField(max_digits=10, decimal_places=4)
    dose_period = models.CharField(max_length=20, choices=DosePeriod.choices)
    max_dose_amount = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    frequency = models.CharField(max_length=20, help_text="qd, bid, weekly ...")
    route = models.CharField(max_length=20, default="oral")
    duration_days = models.PositiveIntegerField(null=True, blank=True)
    administrations = models.PositiveIntegerField(
        null=True, blank=True, help_text="Number of administrations, e.g. 6 weekly infusions."
    )
    weight_basis = models.CharField(
        max_length=20, blank=True, help_text="baseline or latest weight for weight-based doses"
    )
    bsa_formula = models.CharField(max_length=20, blank=True)
    rounding_step_mg = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    target_trough_low = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    target_trough_high = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    target_trough_unit = models.CharField(max_length=20, blank=True)
    taper = models.JSONField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["protocol_version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["protocol_version", "code"], name="regimen_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.arm.code}: {self.drug}"


class VisitDefinition(ProtocolPart):
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="visit_definitions"
    )
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    day_offset = models.IntegerField(help_text="Days after day 1 (day 1 itself is 0).")
    window_before = models.PositiveIntegerField(default=0)
    window_after = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["protocol_version", "day_offset", "order"]
        constraints = [
            models.UniqueConstraint(fields=["protocol_version", "code"], name="visit_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} (day {self.day_offset + 1})"


class EligibilityCriterion(ProtocolPart):
    class Kind(models.TextChoices):
        INCLUSION = "inclusion", "Inclusion"
        EXCLUSION = "exclusion", "Exclusion"

    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="eligibility_criteria"
    )
    code = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField()
    rule = models.JSONField(
        null=True, blank=True, help_text="Automatic rule over data; empty = investigator-confirmed."
    )

    class Meta:
        ordering = ["protocol_version", "order"]
        verbose_name_plural = "eligibility criteria"
        constraints = [
            models.UniqueConstraint(
                fields=["protocol_version", "code"], name="criterion_code_unique"
            )
        ]

    @property
    def source(self) -> str:
        return "automatic" if self.rule else "investigator"

    def __str__(self) -> str:
        return f"{self.kind} {self.code}"


class EndpointDefinition(ProtocolPart):
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="endpoint_definitions"
    )
    code = models.CharField(max_length=60)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40)
    is_primary = models.BooleanField(default=False)
    time_point_day = models.IntegerField(null=True, blank=True)
    parameters = models.JSONField(default=dict)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["protocol_version", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol_version", "code"], name="endpoint_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.kind})"
