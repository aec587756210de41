"""Randomization lists (generate, import, view) and allocation (randomize, enrol).

Allocation of a patient is one transaction: the patient row is locked, the readiness rules are
checked (consent, eligibility, dates), a slot is claimed (randomization.allocation), the patient
gets arm, day 1 and status, and the visit calendar is created.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

from django.db import transaction
from django.utils import timezone

from domain.randomization import (
    AllocationListError,
    block_balance,
    generate_allocation_list,
    validate_allocation_rows,
)
from domain.randomization import AllocationSlot as PlannedSlot
from ecrf.access import Action, can
from ecrf.audit import save_audited
from ecrf.exceptions import Conflict, InvalidInput, PermissionRefused
from endpoints.services import refreshes_endpoints
from labs.services import lab_suggestions_refresh
from patients.models import Patient, PatientStatus
from patients.selectors import latest_consent
from patients.services import (
    check_move_date,
    check_patient_access,
    lock_patient,
    patient_move_status,
)
from patients.status_machine import Via
from randomization.allocation import claim_next_slot
from randomization.models import AllocationList, AllocationListView, AllocationSlot
from randomization.scheme import RandomizationScheme, scheme_for
from trials.models import Study
from visits.services import visit_calendar_create

MAX_SLOTS_PER_STRATUM = 100_000


# --- Lists ------------------------------------------------------------------------------------


def _check_manager(actor, study: Study) -> None:
    if not can(actor, Action.MANAGE_RANDOMIZATION, study_id=study.pk):
        raise PermissionRefused(
            f"Your role does not allow managing the randomization of {study.registry_id}."
        )


def _retire_active_list(study: Study, *, replace: bool, actor) -> None:
    """A study has one active list. A list in use is frozen; an unused one may be replaced."""
    active = AllocationList.objects.select_for_update().filter(study=study, active=True).first()
    if active is None:
        return
    if active.slots.filter(patient__isnull=False).exists():
        raise Conflict(
            f"Randomization has started with list #{active.pk}: the list is frozen.",
            field="study",
        )
    if not replace:
        raise Conflict(
            f"{study.registry_id} already has an active list (#{active.pk}, not used yet); "
            "ask to replace it explicitly.",
            field="replace",
        )
    active.active = False
    active.version += 1
    save_audited(active, actor=actor, reason="Replaced by a new list before randomization")


def _store_list(
    *,
    actor,
    study: Study,
    scheme: RandomizationScheme,
    source: str,
    seed: int | None,
    slots: list[PlannedSlot],
    details: dict,
) -> AllocationList:
    arms = {arm.code: arm for arm in study.arms.all()}
    allocation_list = save_audited(
        AllocationList(
            study=study,
            source=source,
            seed=seed,
            scheme={**scheme.as_json(), **details},
            created_by=actor,
        ),
        actor=actor,
        reason=f"Allocation list {source}",
    )
    # Row by row, so every slot has its own history row from the start.
    for planned in slots:
        save_audited(
            AllocationSlot(
                allocation_list=allocation_list,
                number=planned.number,
                stratum=planned.stratum,
                arm=arms[planned.arm],
                block=planned.block,
                block_size=planned.block_size,
            ),
            actor=actor,
            reason=f"Allocation list {source}",
        )
    return allocation_list


@transaction.atomic
def allocation_list_generate(
    *, actor, study: Study, seed: int, slots_per_stratum: int, replace: bool = False
) -> AllocationList:
    """Generates the study's list from its protocol's scheme: permuted blocks of randomly
    varying size in every stratum, reproducible from `seed`."""
    _check_manager(actor, study)
    scheme = scheme_for(study)
    if not 1 <= slots_per_stratum <= MAX_SLOTS_PER_STRATUM:
        raise InvalidInput(
            f"Must be between 1 and {MAX_SLOTS_PER_STRATUM} slots per stratum.", field="size"
        )
    Study.objects.select_for_update().get(pk=study.pk)  # list changes of a study take turns
    _retire_active_list(study, replace=replace, actor=actor)
    slots = generate_allocation_list(
        list(scheme.arms),
        scheme.strata(),
        block_sizes=list(scheme.block_sizes),
        slots_per_stratum=slots_per_stratum,
        seed=seed,
    )
    return _store_list(
        actor=actor,
        study=study,
        scheme=scheme,
        source=AllocationList.Source.GENERATED,
        seed=seed,
        slots=slots,
        details={"slots_per_stratum": slots_per_stratum},
    )


def _rows_from_csv(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames:
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    return list(reader)


def _block_problems(scheme: RandomizationScheme, slots: list[PlannedSlot]) -> list[dict]:
    """Checks the blocks an uploaded list declares: a block has one size, is not overfull, and
    every complete block matches the allocation ratio."""
    problems = []
    for slot in slots:
        if (slot.block is None) != (slot.block_size is None):
            problems.append(
                _problem(f"number {slot.number}", "give both block and block_size, or neither")
            )
    declared = [s for s in slots if s.block is not None and s.block_size is not None]
    sizes: dict[tuple[str, int], set[int]] = {}
    for slot in declared:
        sizes.setdefault((slot.stratum, slot.block), set()).add(slot.block_size)
    for (stratum, block), found in sorted(sizes.items()):
        if len(found) > 1:
            problems.append(_problem(f"{stratum} block {block}", "rows disagree on block_size"))
    if problems:
        return problems
    for (stratum, block), balance in sorted(block_balance(list(scheme.arms), declared).items()):
        members = sum(balance.counts.values())
        if balance.block_size is not None and members > balance.block_size:
            problems.append(
                _problem(
                    f"{stratum} block {block}",
                    f"{members} rows for a block of {balance.block_size}",
                )
            )
        elif balance.balanced is False:
            problems.append(
                _problem(
                    f"{stratum} block {block}",
                    f"arms {dict(sorted(balance.counts.items()))} do not match the ratio",
                )
            )
    return problems


def _problem(where: str, message: str) -> dict:
    return {"field": "rows", "message": f"{where}: {message}", "code": "invalid"}


@transaction.atomic
def allocation_list_import(
    *, actor, study: Study, csv_text: str, source_name: str, replace: bool = False
) -> AllocationList:
    """Stores a list prepared by the trial statistician, after checking every row.

    Columns: number, stratum, arm (arm code); optional block, block_size. All problems are
    reported at once, each with its line (the header is line 1); nothing is stored unless the
    whole list is valid.
    """
    _check_manager(actor, study)
    scheme = scheme_for(study)
    strata = scheme.strata()
    try:
        slots = validate_allocation_rows(
            _rows_from_csv(csv_text), arm_codes=[code for code, _ in scheme.arms], strata=strata
        )
    except AllocationListError as exc:
        raise InvalidInput(
            exc.message,
            field="rows",
            errors=[
                {
                    "field": f"rows.{p.line}.{p.column}",
                    "message": f"line {p.line}, {p.column}: {p.message}",
                    "code": "invalid",
                }
                for p in exc.problems
            ],
        ) from exc
    problems = _block_problems(scheme, slots)
    covered = {slot.stratum for slot in slots}
    problems += [
        _problem(stratum, "stratum has no slots") for stratum in strata if stratum not in covered
    ]
    if problems:
        raise InvalidInput("; ".join(p["message"] for p in problems), errors=problems)
    Study.objects.select_for_update().get(pk=study.pk)
    _retire_active_list(study, replace=replace, actor=actor)
    return _store_list(
        actor=actor,
        study=study,
        scheme=scheme,
        source=AllocationList.Source.IMPORTED,
        seed=None,
        slots=sorted(slots, key=lambda s: s.number),
        details={
            "file": source_name,
            "sha256": hashlib.sha256(csv_text.encode("utf-8")).hexdigest(),
        },
    )


def allocation_list_record_view(*, actor, allocation_list: AllocationList, channel: str) -> None:
    """Refuses, or logs, a look at the unconcealed list (arms of slots not yet allocated)."""
    if not can(actor, Action.VIEW_ALLOCATION_LIST, study_id=allocation_list.study_id):
        raise PermissionRefused("Your role does not allow viewing the allocation list.")
    AllocationListView.objects.create(
        allocation_list=allocation_list, viewed_by=actor, channel=channel
    )


# --- Allocation -------------------------------------------------------------------------------


def _check_back_entry(actor, patient: Patient, field: str) -> None:
    if not can(actor, Action.BACK_ENTER, study_id=patient.study_id, site_id=patient.site_id):
        raise PermissionRefused(
            "Only a data manager entering historical data may set the allocation date.",
            field=field,
        )


def _readiness_problems(patient: Patient, day1: dt.date, date_field: str) -> list[dict]:
    """Why the patient cannot be allocated on `day1` (empty when they can)."""
    problems = []
    consent = latest_consent(patient)
    if consent is None:
        problems.append(
            {
                "field": "consent",
                "message": "No informed consent is recorded for the patient.",
                "code": "no_consent",
            }
        )
    elif consent.consented_at > day1:
        problems.append(
            {
                "field": date_field,
                "message": f"Must not be before the consent date ({consent.consented_at}).",
                "code": "before_consent",
            }
        )
    if patient.status != PatientStatus.ELIGIBLE:
        grounds = patient.status_reason or "eligibility has not been evaluated"
        problems.append(
            {
                "field": "eligibility",
                "message": f"The patient is not eligible (status '{patient.status}'): {grounds}.",
                "code": "not_eligible",
            }
        )
    return problems


def _lock_unallocated(actor, patient: Patient, requested: dt.date | None, date_field: str):
    """Locks the patient and checks everything that does not depend on the study's design."""
    check_patient_access(actor, patient, Action.RANDOMIZE)
    if requested is not None:
        _check_back_entry(actor, patient, date_field)
    patient = lock_patient(patient)
    if patient.is_voided:
        raise Conflict("The patient record is voided.", field=None)
    if patient.arm_id is not None:
        verb = "randomized" if patient.study.is_randomized else "enrolled"
        raise Conflict(f"The patient is already {verb} (day 1 {patient.day1}).", field=None)
    return patient


def _check_ready(patient: Patient, day1: dt.date, date_field: str) -> None:
    check_move_date(patient, day1, field=date_field)
    problems = _readiness_problems(patient, day1, date_field)
    if problems:
        raise InvalidInput("; ".join(p["message"] for p in problems), errors=problems)


def _dated(requested: dt.date | None) -> tuple[dt.date, bool]:
    return (requested, True) if requested is not None else (timezone.localdate(), False)


@refreshes_endpoints("randomized")
@transaction.atomic
def patient_randomize(
    *,
    actor,
    patient: Patient,
    randomized_at: dt.date | None = None,
    factors: dict[str, str] | None = None,
    reason: str | None = None,
) -> AllocationSlot:
    """Randomizes a consented, eligible patient to the next free slot of their stratum.

    `randomized_at` (data managers only) back-enters a trial's historical randomization: the
    slot still comes from the list, and the allocation is marked and audited as back-entered.
    """
    patient = _lock_unallocated(actor, patient, randomized_at, "randomized_at")
    study = patient.study
    if not study.is_randomized:
        raise InvalidInput(
            f"{study.registry_id} is a single-arm study: enrol the patient instead "
            f"(POST /api/patients/{patient.pk}/enrol/).",
            field=None,
        )
    day1, back_entered = _dated(randomized_at)
    _check_ready(patient, day1, "randomized_at")
    stratum = scheme_for(study).stratum_of(patient.site.code, factors or {})
    allocation_list = AllocationList.objects.filter(study=study, active=True).first()
    if allocation_list is None:
        raise Conflict(
            f"{study.registry_id} has no randomization list yet; a data manager must generate "
            "or import one before randomization can start.",
            field="study",
        )
    slot = claim_next_slot(
        allocation_list=allocation_list,
        stratum=stratum,
        patient=patient,
        actor=actor,
        randomized_on=day1,
        back_entered=back_entered,
    )
    _allocate(
        actor,
        patient,
        to_status=PatientStatus.RANDOMIZED,
        arm=slot.arm,
        day1=day1,
        back_entered=back_entered,
        reason=reason,
        summary=f"Randomized: number {slot.number}, stratum {stratum}",
    )
    return slot


@refreshes_endpoints("enrolled")
@transaction.atomic
def patient_enrol(
    *, actor, patient: Patient, enrolled_at: dt.date | None = None, reason: str | None = None
) -> Patient:
    """Enrols a consented, eligible patient of a single-arm study (no list involved)."""
    patient = _lock_unallocated(actor, patient, enrolled_at, "enrolled_at")
    study = patient.study
    if study.is_randomized:
        raise InvalidInput(
            f"{study.registry_id} is randomized: randomize the patient instead "
            f"(POST /api/patients/{patient.pk}/randomize/).",
            field=None,
        )
    day1, back_entered = _dated(enrolled_at)
    _check_ready(patient, day1, "enrolled_at")
    return _allocate(
        actor,
        patient,
        to_status=PatientStatus.ENROLLED,
        arm=study.arms.get(),
        day1=day1,
        back_entered=back_entered,
        reason=reason,
        summary="Enrolled",
    )


def _allocate(actor, patient, *, to_status, arm, day1, back_entered, reason, summary) -> Patient:
    text = summary
    if back_entered:
        text += f"; back-entered historical data dated {day1}"
    if reason:
        text += f"; {reason.strip()}"
    patient = patient_move_status(
        actor=actor,
        patient=patient,
        to_status=to_status,
        on=day1,
        reason=text,
        via=Via.ALLOCATION,
        changes={"arm": arm, "day1": day1},
        history_note=("Back-entered: " if back_entered else "") + summary,
    )
    protocol = patient.study.current_protocol()
    visit_calendar_create(
        actor=actor,
        patient=patient,
        day1=day1,
        protocol_version=protocol,
        reason=f"Visit calendar from protocol version {protocol.number}",
    )
    # Lab grade suggestions grade against the baseline, which day 1 has just defined.
    lab_suggestions_refresh(patient=patient, actor=actor)
    return patient
