"""Allocation lists and their slots.

A list is made before randomization starts (generated from a seed, or imported from the trial
statistician's CSV) and is concealed: only a role allowed to see it (data manager) can read the
arms of free slots, and every such reading is logged (AllocationListView). Slots are never
deleted; a slot is given to a patient once, enforced by the database (one-to-one patient).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ecrf.models import AuditedModel


class AllocationList(AuditedModel):
    class Source(models.TextChoices):
        GENERATED = "generated", "Generated from a seed"
        IMPORTED = "imported", "Imported from a statistician's CSV"

    study = models.ForeignKey(
        "trials.Study", on_delete=models.PROTECT, related_name="allocation_lists"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    # The seed reproduces a generated list: it is as secret as the list itself.
    seed = models.BigIntegerField(null=True, blank=True)
    scheme = models.JSONField(
        help_text="Arms and ratio, strata, block sizes (and the file for an imported list)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["study__registry_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["study"],
                condition=models.Q(active=True),
                name="one_active_allocation_list_per_study",
            )
        ]

    def __str__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"{self.study.registry_id} list #{self.pk} ({self.source}, {state})"


class AllocationSlot(AuditedModel):
    allocation_list = models.ForeignKey(
        AllocationList, on_delete=models.PROTECT, related_name="slots"
    )
    number = models.PositiveIntegerField(help_text="The randomization number.")
    stratum = models.CharField(max_length=200)
    arm = models.ForeignKey("trials.Arm", on_delete=models.PROTECT, related_name="+")
    block = models.PositiveIntegerField(null=True, blank=True)
    block_size = models.PositiveIntegerField(null=True, blank=True)
    # One-to-one: the database refuses a second slot for the same patient.
    patient = models.OneToOneField(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocation",
    )
    allocated_at = models.DateTimeField(null=True, blank=True)
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    randomized_on = models.DateField(
        null=True, blank=True, help_text="The randomization date (the patient's day 1)."
    )
    back_entered = models.BooleanField(
        default=False, help_text="Historical randomization entered later by a data manager."
    )

    class Meta:
        ordering = ["allocation_list", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation_list", "number"], name="slot_number_unique_per_list"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        patient__isnull=True,
                        allocated_at__isnull=True,
                        randomized_on__isnull=True,
                    )
                    | models.Q(
                        patient__isnull=False,
                        allocated_at__isnull=False,
                        randomized_on__isnull=False,
                    )
                ),
                name="slot_allocation_complete",
            ),
        ]
        indexes = [
            # The allocation query: the next free slot of a stratum, in number order.
            models.Index(
                fields=["allocation_list", "stratum", "number"],
                condition=models.Q(patient__isnull=True),
                name="free_slot_by_stratum",
            )
        ]

    def __str__(self) -> str:
        return f"slot {self.number} ({self.stratum})"


class AllocationListView(models.Model):
    """Who looked at an unconcealed allocation list, when, and how (append-only)."""

    class Channel(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"

    allocation_list = models.ForeignKey(
        AllocationList, on_delete=models.PROTECT, related_name="views"
    )
    viewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    viewed_at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)

    class Meta:
        ordering = ["-viewed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.viewed_by} viewed list #{self.allocation_list_id} at {self.viewed_at}"
