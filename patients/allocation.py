"""Handing out the next free slot of a stratum, safely under concurrency.

Two guards, so that a slot can never go to two patients:
1. the candidate is read with `SELECT ... FOR UPDATE SKIP LOCKED` (PostgreSQL): concurrent
   randomizations skip each other's candidates instead of queueing on the same row;
2. the claim is a conditional UPDATE (`WHERE patient IS NULL`) whose row count is checked, so
   even a database without row locks (SQLite) cannot hand out a taken slot; the one-to-one
   patient column makes a second slot for the same patient impossible as well.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from ecrf.audit import save_audited
from ecrf.exceptions import Conflict
from patients.models import Patient
from trials.randomization.models import AllocationList, AllocationSlot

# A claim fails only when a concurrent randomization took the candidate first; each retry
# reads the next free slot, so a handful of retries is plenty.
MAX_CLAIM_ATTEMPTS = 20


def claim_next_slot(
    *,
    allocation_list: AllocationList,
    stratum: str,
    patient: Patient,
    actor,
    randomized_on: dt.date,
    back_entered: bool,
) -> AllocationSlot:
    free = AllocationSlot.objects.filter(
        allocation_list=allocation_list, stratum=stratum, patient__isnull=True
    ).order_by("number")
    for _ in range(MAX_CLAIM_ATTEMPTS):
        candidate = free.select_for_update(skip_locked=True).first()
        if candidate is None:
            if not free.exists():
                raise Conflict(
                    f"The randomization list has no free slot left in stratum {stratum!r}; "
                    "a data manager must provide a new list.",
                    field="stratum",
                )
            # Every free slot is locked by a randomization in progress: wait for one to finish.
            list(free.select_for_update()[:1])
            continue
        if _claim(candidate, patient, actor, randomized_on, back_entered):
            slot = AllocationSlot.objects.select_related("arm").get(pk=candidate.pk)
            # The UPDATE above wrote no history row; this audited save records the allocation.
            slot.version += 1
            return save_audited(
                slot,
                actor=actor,
                reason="Back-entered allocation" if back_entered else "Allocated",
            )
    raise Conflict("The randomization list is busy; try again.", field=None)


def _claim(candidate, patient, actor, randomized_on, back_entered) -> bool:
    try:
        with transaction.atomic():  # a savepoint: a refused claim leaves the transaction usable
            claimed = AllocationSlot.objects.filter(pk=candidate.pk, patient__isnull=True).update(
                patient=patient,
                allocated_at=timezone.now(),
                allocated_by=actor,
                randomized_on=randomized_on,
                back_entered=back_entered,
            )
    except IntegrityError as exc:  # the patient holds a slot already (one-to-one)
        raise Conflict("The patient is already randomized.", field=None) from exc
    return claimed == 1
