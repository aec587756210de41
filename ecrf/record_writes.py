"""The service functions that write one kind of record, named once for the API and the admin.

A view-set (`ecrf.api.PatientRecordViewSet`) and an admin (`ecrf.admin_base.ServiceBackedAdmin`)
both take a `RecordWrites` and call the same three services, so a record has one write path:

    BLEEDING_ASSESSMENT_WRITES = RecordWrites(
        create=bleeding_assessment_create,
        update=bleeding_assessment_update,
        void=bleeding_assessment_void,
        record="assessment",
    )
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class RecordWrites:
    """`create(actor=, **values)`, `update(actor=, <record>=, changes=, reason=,
    expected_version=)` and `void(actor=, <record>=, reason=, expected_version=)`; `record` is
    the keyword under which update and void take the stored record (e.g. "assessment")."""

    create: Callable[..., models.Model]
    update: Callable[..., models.Model]
    record: str
    void: Callable[..., models.Model] | None = None

    def create_record(self, actor, **values) -> models.Model:
        return self.create(actor=actor, **values)

    def update_record(
        self, actor, record: models.Model, changes: dict, *, reason, version
    ) -> models.Model:
        return self.update(
            actor=actor,
            changes=changes,
            reason=reason,
            expected_version=version,
            **{self.record: record},
        )

    def void_record(self, actor, record: models.Model, *, reason, version) -> models.Model:
        if self.void is None:  # pragma: no cover - only view-sets that void through it call it
            raise NotImplementedError("This record has no void service.")
        return self.void(
            actor=actor, reason=reason, expected_version=version, **{self.record: record}
        )
