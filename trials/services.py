"""Writes to the study design: loading protocol files.

Loading is idempotent. A protocol version, once loaded, is never rewritten: when a file's
content differs from what was loaded (an amendment, or an edit of an old version), the changed
content is stored as a new ProtocolVersion with its own audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction

from ecrf.audit import save_audited
from ecrf.domain.errors import DomainError
from ecrf.domain.protocol_spec import ProtocolSpec, ResolvedVersion, resolve_protocol
from ecrf.locking import take_turns
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


class ProtocolFileError(Exception):
    """A protocol file that cannot be loaded; names the file, the key and the problem."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file = file
        self.key = key
        self.problem = problem


@dataclass
class LoadReport:
    registry_id: str
    study_created: bool = False
    versions_created: list[int] = field(default_factory=list)
    changed_records: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.study_created or self.versions_created or self.changed_records)

    def describe(self) -> str:
        if self.unchanged:
            return f"{self.registry_id}: unchanged"
        parts = []
        if self.study_created:
            parts.append("study created")
        if self.versions_created:
            parts.append("protocol version(s) " + ", ".join(map(str, self.versions_created)))
        if self.changed_records:
            parts.append("updated " + ", ".join(self.changed_records))
        return f"{self.registry_id}: " + "; ".join(parts)


def protocol_validators():
    """The checks owned by the eligibility and endpoint modules, applied while reading a file."""
    from ecrf.domain.eligibility import validate_rule
    from ecrf.domain.endpoints import build_endpoint_specs

    def validate_endpoints(criteria, endpoints, path):
        build_endpoint_specs(criteria or {}, endpoints, path=path)

    return {"validate_rule": validate_rule, "validate_endpoints": validate_endpoints}


def resolve_protocol_path(path_or_registry_id: str) -> Path:
    candidate = Path(path_or_registry_id)
    if candidate.is_file():
        return candidate
    shipped = Path(settings.PROTOCOL_DIR) / f"{path_or_registry_id}.yaml"
    if shipped.is_file():
        return shipped
    raise ProtocolFileError(
        path_or_registry_id, "(file)", "no such file, and no shipped protocol with that registry id"
    )


def shipped_protocol_paths() -> list[Path]:
    return sorted(Path(settings.PROTOCOL_DIR).glob("NCT*.yaml"))


def read_protocol_file(path: Path) -> ProtocolSpec:
    name = str(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise ProtocolFileError(
            name, where, f"not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolFileError(name, "(file)", f"cannot be read: {exc}") from exc
    try:
        return resolve_protocol(document, **protocol_validators())
    except DomainError as exc:
        raise ProtocolFileError(name, exc.field, exc.message) from exc


@transaction.atomic
def load_protocol(path_or_registry_id: str, *, actor=None) -> LoadReport:
    path = resolve_protocol_path(path_or_registry_id)
    spec = read_protocol_file(path)
    reason = f"Protocol file {path.name} loaded"
    report = LoadReport(registry_id=spec.registry_id)

    # Loads of one protocol take turns (without locking the study row other writes reference).
    take_turns("protocol-load", spec.registry_id)
    study = Study.objects.filter(registry_id=spec.registry_id).first()
    study_values = {
        **spec.study,
        "randomization_scheme": spec.randomization,
        "source_file": path.name,
    }
    if study is None:
        study = save_audited(Study(**study_values), actor=actor, reason=reason)
        report.study_created = True
    elif _assign_changes(study, study_values):
        study.version += 1
        save_audited(study, actor=actor, reason=reason)
        report.changed_records.append("study")

    for site_spec in spec.sites:
        _upsert(Site, {"study": study, "code": site_spec["code"]}, site_spec, actor, reason, report)
    arms = {}
    for arm_spec in spec.arms:
        values = {
            "name": arm_spec["name"],
            "arm_type": arm_spec["type"],
            "description": arm_spec["description"],
            "allocation_ratio": arm_spec["ratio"],
        }
        arms[arm_spec["code"]] = _upsert(
            Arm, {"study": study, "code": arm_spec["code"]}, values, actor, reason, report
        )

    _load_versions(study, spec.versions, arms, actor=actor, reason=reason, report=report)
    return report


def _assign_changes(instance, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _upsert(model, keys: dict, values: dict, actor, reason: str, report: LoadReport):
    values = {k: v for k, v in values.items() if k not in keys and k != "code"}
    instance = model.objects.filter(**keys).first()
    if instance is None:
        return save_audited(model(**keys, **values), actor=actor, reason=reason)
    if _assign_changes(instance, values):
        instance.version += 1
        save_audited(instance, actor=actor, reason=reason)
        report.changed_records.append(f"{model._meta.verbose_name} {keys.get('code')}")
    return instance


def _load_versions(study, versions: list[ResolvedVersion], arms, *, actor, reason, report) -> None:
    """Stores the file's versions that are not stored yet, never rewriting a stored one.

    - unchanged file: every version's content hash is known, nothing happens;
    - amendment appended to the file: its version is created with the file's summary;
    - a version that was already loaded but whose content now differs (an edited file): the
      stored version stays as it was, and the file's latest content becomes a new version
      whose summary says which loaded versions the file changed.
    """
    stored = list(study.protocol_versions.order_by("number"))
    known_hashes = {v.content_hash for v in stored}
    stored_labels = {v.label for v in stored}
    next_number = (stored[-1].number if stored else 0) + 1
    edited_labels: list[str] = []
    for version in versions:
        if version.content_hash in known_hashes:
            continue
        if version.label in stored_labels:
            edited_labels.append(version.label)
            continue
        summary = version.summary
        if edited_labels:
            summary = _edited_summary(edited_labels, next_number) + " " + summary
        _create_version(study, version, next_number, summary, arms, actor=actor, reason=reason)
        report.versions_created.append(next_number)
        known_hashes.add(version.content_hash)
        next_number += 1
    latest = versions[-1]
    current = study.protocol_versions.order_by("-number").first()
    if current.content_hash != latest.content_hash:
        if edited_labels:
            summary = _edited_summary(edited_labels, next_number) + " " + latest.summary
        else:
            summary = f"Protocol file reverted to earlier content (version {latest.label})."
        _create_version(study, latest, next_number, summary, arms, actor=actor, reason=reason)
        report.versions_created.append(next_number)


def _edited_summary(labels: list[str], number: int) -> str:
    return (
        f"Protocol file changed after version(s) {', '.join(labels)} had been loaded; the stored "
        f"versions are kept unchanged and the file's content is stored as version {number}."
    )


def _create_version(
    study, version: ResolvedVersion, number: int, summary: str, arms, *, actor, reason
):
    content = version.content
    protocol_version = save_audited(
        ProtocolVersion(
            study=study,
            number=number,
            label=version.label,
            effective_date=version.effective_date,
            summary_of_changes=summary,
            content=content,
            content_hash=version.content_hash,
            response_criteria=content["response_criteria"],
            ctcae_excluded_terms=content["ctcae"]["exclude_terms_from_suggestions"],
            loaded_by=actor,
        ),
        actor=actor,
        reason=reason,
    )
    # Each row is saved on its own (no bulk_create) so that every one gets its history row.
    for order, visit in enumerate(content["visits"]):
        save_audited(
            VisitDefinition(protocol_version=protocol_version, order=order, **visit),
            actor=actor,
            reason=reason,
        )
    for order, criterion in enumerate(content["eligibility"]):
        save_audited(
            EligibilityCriterion(protocol_version=protocol_version, order=order, **criterion),
            actor=actor,
            reason=reason,
        )
    for order, regimen in enumerate(content["regimens"]):
        trough = regimen["trough_target"] or {}
        values = {k: v for k, v in regimen.items() if k not in ("arm", "trough_target")}
        save_audited(
            Regimen(
                protocol_version=protocol_version,
                order=order,
                arm=arms[regimen["arm"]],
                target_trough_low=trough.get("low"),
                target_trough_high=trough.get("high"),
                target_trough_unit=trough.get("unit", ""),
                **values,
            ),
            actor=actor,
            reason=reason,
        )
    for order, endpoint in enumerate(content["endpoints"]):
        save_audited(
            EndpointDefinition(
                protocol_version=protocol_version,
                order=order,
                code=endpoint["code"],
                name=endpoint["name"],
                kind=endpoint["kind"],
                is_primary=endpoint["primary"],
                time_point_day=endpoint["time_point_day"],
                parameters=endpoint["parameters"],
                description=endpoint["description"],
            ),
            actor=actor,
            reason=reason,
        )
    return protocol_version
