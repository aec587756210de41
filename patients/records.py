"""The steps shared by the services that write a patient's clinical records.

Each record type keeps one named service function per write (`<record>_create`, `_update`,
`_void`); those functions call these steps (`PatientRecordRules` holds a record type's model
and validation):

- create: may the actor enter data for the patient, validate, save with the audit reason;
- update: the same check, lock the stored record (refused if stale or voided), validate the
  values it will have after the change, save them as an audited update;
- void: may the actor void the patient's records, then void (it stays in the audit trail).

`validate(patient, values) -> values` raises `InvalidInput` naming the field, and may add
derived values (a computed total, a code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from ecrf.access import Action
from ecrf.audit import check_version, require_reason, save_audited, update_audited, void_audited
from ecrf.exceptions import InvalidInput
from patients.models import Patient
from patients.services import check_patient_entry

Validation = Callable[[Patient, dict], dict]


@dataclass(frozen=True)
class PatientRecordRules:
    """How one type of a patient's record is validated: its model, the fields an update may
    change, and `validate(patient, values) -> values`."""

    model: type[models.Model]
    editable: tuple[str, ...]
    validate: Validation

    def create(
        self, *, actor, patient: Patient, values: dict, reason: str | Callable[..., str]
    ) -> models.Model:
        """Saves a new record for the patient; `reason` may be worded from the record."""
        check_patient_entry(actor, patient)
        record = self.model(patient=patient, **self.validate(patient, values))
        wording = reason(record) if callable(reason) else reason
        return save_audited(record, actor=actor, reason=wording)

    def update(
        self, record: models.Model, *, actor, changes: dict, reason: str | None, expected_version
    ) -> models.Model:
        """Applies `changes` after validating the record as a whole, as it will be stored."""
        check_patient_entry(actor, record.patient)
        locked = locked_for_change(record, reason=reason, expected_version=expected_version)
        values = self.validate(locked.patient, merged(locked, changes, self.editable))
        return update_audited(
            locked, changes=values, actor=actor, reason=reason, expected_version=expected_version
        )


def locked_for_change(
    record: models.Model, *, reason: str | None, expected_version: int | None
) -> models.Model:
    """A locked fresh copy of `record`, refused if stale or voided, before any validation.

    Locking first means the merged values a service validates are the values it will write.
    """
    require_reason(reason)
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    check_version(locked, expected_version)
    if locked.is_voided:
        raise InvalidInput("The record is voided; a voided record cannot be changed.", field=None)
    return locked


def merged(record: models.Model, changes: dict, fields: tuple[str, ...]) -> dict:
    """The record's values after `changes`, for validating an update as a whole."""
    return {name: changes.get(name, getattr(record, name)) for name in fields}


def patient_record_void(
    record: models.Model, *, actor, reason: str | None, expected_version: int | None
) -> models.Model:
    """Voids a patient's record (it stays, flagged, in the audit trail)."""
    check_patient_entry(actor, record.patient, Action.VOID)
    return void_audited(record, actor=actor, reason=reason, expected_version=expected_version)
