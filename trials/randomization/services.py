"""Randomization lists: generated from a seed or imported, viewed (concealed, every look logged).

Allocating a patient from a list is the patients app's (`patients.randomization`).
"""

from __future__ import annotations

import csv
import hashlib
import io

from django.db import transaction

from ecrf.access import Action, can
from ecrf.audit import save_audited
from ecrf.domain.randomization import (
    AllocationListError,
    block_balance,
    generate_allocation_list,
    validate_allocation_rows,
)
from ecrf.domain.randomization import AllocationSlot as PlannedSlot
from ecrf.exceptions import Conflict, InvalidInput, PermissionRefused
from ecrf.locking import take_turns
from trials.models import Study
from trials.randomization.models import AllocationList, AllocationListView, AllocationSlot
from trials.randomization.scheme import RandomizationScheme, scheme_for

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
    take_turns("allocation-list", study.pk)  # list changes of a study take turns
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
    take_turns("allocation-list", study.pk)
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
