"""Freeze and lock: no write to covered data until released with a reason.

A data manager freezes a visit or a patient (a pause while data are cleaned) and locks a
patient's casebook or the whole study (for analysis). `refuse_locked_write` is registered as an
`ecrf.write_guards` guard on every clinical record, so the API, the admin, the bulk import and
the commands all get the same 409 naming the lock. Its cost: one indexed statement per write
(per patient and visit for a bulk write).
"""

from __future__ import annotations

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from ecrf.access import Action, can, require_study_wide
from ecrf.audit import require_reason, save_audited
from ecrf.exceptions import Conflict, InvalidInput, PermissionRefused
from ecrf.locking import take_turns
from ecrf.models import ClinicalRecord
from patients.models import Patient
from trials.models import Study
from visits.models import Visit
from visits.review.models import DataLock, LockKind, LockScope

# What can be frozen and what locked (the table's check constraint says the same).
ALLOWED = frozenset(
    {
        (LockKind.FREEZE, LockScope.VISIT),
        (LockKind.FREEZE, LockScope.PATIENT),
        (LockKind.LOCK, LockScope.PATIENT),
        (LockKind.LOCK, LockScope.STUDY),
    }
)


class DataLocked(Conflict):
    """A write to frozen or locked data (409)."""

    code = "locked"


def guarded_models() -> list[type[models.Model]]:
    """Every clinical record of every app but this one (queries and locks are not data)."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, ClinicalRecord) and model._meta.app_label != "review"
    ]


def locked_target(instance: models.Model) -> tuple[int | None, int | None, int | None]:
    """(study id if known, patient id, visit id) of a record about to be written."""
    if isinstance(instance, Patient):
        return instance.study_id, instance.pk, None
    if isinstance(instance, Visit):
        return None, instance.patient_id, instance.pk
    patient_id = getattr(instance, "patient_id", None)
    if patient_id is None and hasattr(instance, "adverse_event"):
        patient_id = instance.adverse_event.patient_id  # an AE's per-drug assessment
    return None, patient_id, getattr(instance, "visit_id", None)


def covering_lock(
    *, study_id: int | None, patient_id: int | None, visit_id: int | None
) -> DataLock | None:
    """The active freeze or lock covering this data, if any (one indexed statement)."""
    if study_id is not None:
        condition = Q(scope=LockScope.STUDY, study_id=study_id)
    elif patient_id is not None:
        condition = Q(scope=LockScope.STUDY, study__patients=patient_id)
    else:
        return None
    if patient_id is not None:
        condition |= Q(scope=LockScope.PATIENT, patient_id=patient_id)
    if visit_id is not None:
        condition |= Q(scope=LockScope.VISIT, visit_id=visit_id)
    return (
        DataLock.objects.filter(condition, is_active=True)
        .select_related("placed_by")
        .order_by("id")
        .first()
    )


def describe(lock: DataLock) -> str:
    target = {
        LockScope.STUDY: "the whole study",
        LockScope.PATIENT: f"patient {lock.patient_id}",
        LockScope.VISIT: f"visit {lock.visit_id} of patient {lock.patient_id}",
    }[lock.scope]
    verb = "frozen" if lock.kind == LockKind.FREEZE else "locked"
    return (
        f"The data are {verb}: {lock.get_kind_display().lower()} {lock.pk} of {target}, "
        f"placed by {lock.placed_by} on {lock.placed_at:%Y-%m-%d %H:%M}Z ({lock.reason}). "
        f"Nothing can be changed until it is released."
    )


def refuse_locked_write(instance: models.Model, *, actor) -> None:
    study_id, patient_id, visit_id = locked_target(instance)
    lock = covering_lock(study_id=study_id, patient_id=patient_id, visit_id=visit_id)
    if lock is not None:
        raise DataLocked(describe(lock))


# --- Placing and releasing ---------------------------------------------------------------------


def _require_study_wide(actor, study: Study) -> None:
    require_study_wide(
        actor,
        Action.FREEZE_LOCK,
        study.pk,
        "Locking a whole study needs a data manager's grant over all of its sites.",
    )


def _require_on_patient(actor, patient: Patient) -> None:
    if not can(actor, Action.FREEZE_LOCK, study_id=patient.study_id, site_id=patient.site_id):
        raise PermissionRefused(f"Your role does not allow this ({Action.FREEZE_LOCK.value}).")


def require_lock_right(actor, *, study: Study | None = None, patient: Patient | None = None):
    """The role check alone, for the API to make before it reads the body (403 before 400)."""
    if patient is not None:
        _require_on_patient(actor, patient)
    else:
        _require_study_wide(actor, study)


def _same_target(kind: str, scope: str, study: Study, patient, visit):
    return DataLock.objects.filter(
        kind=kind, scope=scope, study=study, patient=patient, visit=visit, is_active=True
    )


def _check_target(scope: str, study, patient, visit) -> None:
    """The target the scope names must be given (a 400 naming it)."""
    missing = {
        LockScope.STUDY: ("study", study),
        LockScope.PATIENT: ("patient", patient),
        LockScope.VISIT: ("visit", visit),
    }.get(scope)
    if missing is None:
        raise InvalidInput("Must be study, patient or visit.", field="scope")
    if missing[1] is None:
        raise InvalidInput(f"Name the {missing[0]} to {scope}-lock.", field=missing[0])


@transaction.atomic
def lock_place(
    *,
    actor,
    kind: str,
    scope: str,
    reason: str | None,
    study: Study | None = None,
    patient: Patient | None = None,
    visit: Visit | None = None,
) -> DataLock:
    """Freezes or locks a study, a patient or a visit; a second one of the same is a 409."""
    _check_target(scope, study, patient, visit)
    if (kind, scope) not in ALLOWED:
        raise InvalidInput(
            "A visit or a patient can be frozen; a patient or the whole study locked.",
            field="scope",
        )
    reason = require_reason(reason)
    if scope == LockScope.STUDY:
        _require_study_wide(actor, study)
        patient = visit = None
    else:
        patient = visit.patient if scope == LockScope.VISIT else patient
        visit = visit if scope == LockScope.VISIT else None
        study = patient.study
        _require_on_patient(actor, patient)
    # One placer at a time per study, so the check below cannot race: an advisory lock, never a
    # row lock on the study (a FOR UPDATE there would hold up every insert that references it).
    take_turns("data-locks", study.pk)
    if _same_target(kind, scope, study, patient, visit).exists():
        raise Conflict(f"This {scope} is already {'frozen' if kind == 'freeze' else 'locked'}.")
    lock = DataLock(
        kind=kind,
        scope=scope,
        study=study,
        patient=patient,
        visit=visit,
        reason=reason,
        placed_by=actor,
    )
    return save_audited(lock, actor=actor, reason=f"{LockKind(kind).label} placed: {reason}")


@transaction.atomic
def lock_release(
    *,
    actor,
    kind: str,
    scope: str,
    reason: str | None,
    study: Study | None = None,
    patient: Patient | None = None,
    visit: Visit | None = None,
) -> DataLock:
    """Releases the active freeze or lock of this target, with the reason (409 if none)."""
    _check_target(scope, study, patient, visit)
    reason = require_reason(reason)
    if scope == LockScope.STUDY:
        _require_study_wide(actor, study)
        patient = visit = None
    else:
        patient = visit.patient if scope == LockScope.VISIT else patient
        visit = visit if scope == LockScope.VISIT else None
        study = patient.study
        _require_on_patient(actor, patient)
    lock = _same_target(kind, scope, study, patient, visit).select_for_update().first()
    if lock is None:
        raise Conflict(f"This {scope} is not {'frozen' if kind == 'freeze' else 'locked'}.")
    lock.is_active = False
    lock.released_by = actor
    lock.released_at = timezone.now()
    lock.release_reason = reason
    lock.version += 1
    return save_audited(lock, actor=actor, reason=f"{LockKind(kind).label} released: {reason}")
