"""Every audited table of a study as a source of the audit log, named once.

Three kinds of rows feed `GET /api/audit/`:

- the patient's records (`tables.TABLES`): bound to a patient and so to a site — a user granted
  some sites reads only those sites' rows;
- the study's design and access (studies, sites, arms, protocol versions and their parts,
  allocation lists, grants): study-wide — every monitor and data manager of the study reads them,
  whatever their sites; allocation slots, which carry the concealed sequence, only for those who
  may unconceal them (`trials.randomization.selectors.slot_scope_q`), and a list's seed only
  for those who see the whole list;
- the exports (`ExportLog`): who exported what, when — study-wide, of type `exported`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q

from ecrf.models import StudyRole
from trials.models import (
    Arm,
    EligibilityCriterion,
    EndpointDefinition,
    ProtocolVersion,
    Regimen,
    Site,
    Study,
    VisitDefinition,
)
from trials.randomization.models import AllocationList, AllocationSlot
from trials.randomization.selectors import slot_scope_q
from visits.exports.tables import TABLES

CONCEALED = "concealed"


@dataclass(frozen=True)
class AuditSource:
    """One history table: the lookups from its rows to the study, site and patient."""

    resource: str  # the API resource (or, for a protocol's parts, the part's name)
    model: type[models.Model]
    study_path: str  # to the study's id, e.g. "patient__study_id"
    site_path: str | None = None  # to the site's id of site-bound rows; None: study-wide
    patient_path: str | None = None
    subject_path: str | None = None
    site_code_path: str | None = None
    # Field name → the name the API gives it (e.g. an AE's `serious_death` → `death`).
    names: Mapping[str, str] = field(default_factory=dict)
    # A further scope on top of the study's, from the user (None: no further restriction).
    extra_scope: Callable[[object], Q | None] | None = None
    # Fields shown as "concealed" unless `may_unconceal(user, study_id)` says otherwise.
    concealed: frozenset[str] = frozenset()

    @property
    def has_void(self) -> bool:
        return any(f.name == "is_voided" for f in self.model._meta.concrete_fields)

    @property
    def site_bound(self) -> bool:
        return self.site_path is not None

    def api_name(self, field_name: str) -> str:
        return self.names.get(field_name, field_name)


def _patient_record_sources() -> list[AuditSource]:
    sources = []
    for table in TABLES:
        prefix = table.prefix()
        sources.append(
            AuditSource(
                resource=table.resource,
                model=table.model,
                study_path=f"{prefix}study_id",
                site_path=f"{prefix}site_id",
                patient_path=table.patient_id_path,
                subject_path=f"{prefix}subject_id",
                site_code_path=f"{prefix}site__code",
                names=table.api_names,
            )
        )
    return sources


def _design_sources() -> list[AuditSource]:
    in_version = "protocol_version__study_id"
    return [
        AuditSource("studies", Study, "id"),
        AuditSource("sites", Site, "study_id", site_code_path="code"),
        AuditSource("arms", Arm, "study_id"),
        AuditSource("protocol-versions", ProtocolVersion, "study_id"),
        AuditSource("regimens", Regimen, in_version),
        AuditSource("visit-definitions", VisitDefinition, in_version),
        AuditSource("eligibility-criteria", EligibilityCriterion, in_version),
        AuditSource("endpoint-definitions", EndpointDefinition, in_version),
        AuditSource("allocation-lists", AllocationList, "study_id", concealed=frozenset({"seed"})),
        AuditSource(
            "allocation-slots",
            AllocationSlot,
            "allocation_list__study_id",
            patient_path="patient_id",
            subject_path="patient__subject_id",
            site_code_path="patient__site__code",
            extra_scope=slot_scope_q,
        ),
        AuditSource("access-grants", StudyRole, "study_id"),
    ]


HISTORY_SOURCES: tuple[AuditSource, ...] = (*_patient_record_sources(), *_design_sources())
SOURCES_BY_RESOURCE: dict[str, AuditSource] = {s.resource: s for s in HISTORY_SOURCES}
# The export log is not a history table: its rows are entries of their own type.
EXPORTS_RESOURCE = "exports"
RESOURCES = (*SOURCES_BY_RESOURCE, EXPORTS_RESOURCE)
