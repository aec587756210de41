"""Source data verification (SDV): a monitor's or data manager's mark that a record agrees with
the source, bound to the record's version; cleared by any later change of the record.

Clearing is registered with `ecrf.after_write` in this app's `AppConfig.ready()`, so every write
path (API, admin, bulk import, commands) clears the marks of what it changed, with the change's
reason, actor and time. Progress counts, per site and per patient, the records the protocol
version's `sdv_plan` requires (`ecrf.domain.sdv_plan`), those verified at their current version
and those whose mark was cleared and not yet renewed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from django.db import models, transaction
from django.utils import timezone

from ecrf.access import Action, can, scope_queryset
from ecrf.audit import save_audited
from ecrf.domain.sdv_plan import PLAN_RESOURCES, RecordFact, required_records
from ecrf.exceptions import Conflict, InvalidInput, PermissionRefused
from patients.models import Patient
from visits.models import Visit
from visits.review.models import SourceVerification
from visits.review.queries import queried_record
from visits.review.resources import RESOURCE_OF_MODEL, RESOURCES, resource_named

VERIFIED_MODELS = [resource.model for resource in RESOURCES.values()]


def _require(actor, patient: Patient) -> None:
    if not can(actor, Action.VERIFY_SOURCE, study_id=patient.study_id, site_id=patient.site_id):
        raise PermissionRefused(f"Your role does not allow this ({Action.VERIFY_SOURCE.value}).")


def _mark(actor, patient: Patient, resource: str, record: models.Model) -> SourceVerification:
    standing = (
        SourceVerification.objects.select_for_update()
        .filter(resource=resource, record_id=record.pk, is_cleared=False)
        .first()
    )
    if standing is not None:
        raise Conflict(
            f"{resource} {record.pk} is already verified (version {standing.record_version})."
        )
    mark = SourceVerification(
        study_id=patient.study_id,
        site_id=patient.site_id,
        patient=patient,
        resource=resource,
        record_id=record.pk,
        record_version=record.version,
        verified_by=actor,
    )
    return save_audited(
        mark, actor=actor, reason=f"Source-verified {resource} {record.pk} v{record.version}"
    )


@transaction.atomic
def sdv_mark(*, actor, resource: str, record_id) -> SourceVerification:
    """Marks one record source-verified at its current version (409 if it already is)."""
    named = resource_named(resource)
    record, patient = queried_record(actor, named, record_id)
    _require(actor, patient)
    if getattr(record, "is_voided", False):
        raise InvalidInput("A voided record cannot be verified.", field="record_id")
    return _mark(actor, patient, named.name, record)


def visit_records(visit: Visit) -> list[tuple[str, models.Model]]:
    """The visit and every not voided record linked to it, sorted by resource and id."""
    rows: list[tuple[str, models.Model]] = [("visits", visit)]
    for name, resource in sorted(RESOURCES.items()):
        if name == "visits" or not any(f.name == "visit" for f in resource.model._meta.fields):
            continue
        records = resource.model._default_manager.filter(visit_id=visit.pk).order_by("pk")
        if any(f.name == "is_voided" for f in resource.model._meta.fields):
            records = records.filter(is_voided=False)
        rows.extend((name, record) for record in records)
    return rows


@transaction.atomic
def sdv_mark_visit(*, actor, visit_id) -> list[SourceVerification]:
    """Marks the visit and its records verified; those already verified are left as they are."""
    visit, patient = queried_record(actor, RESOURCES["visits"], visit_id)
    _require(actor, patient)
    standing = set(
        SourceVerification.objects.filter(patient=patient, is_cleared=False).values_list(
            "resource", "record_id"
        )
    )
    return [
        _mark(actor, patient, name, record)
        for name, record in visit_records(visit)
        if (name, record.pk) not in standing
    ]


@transaction.atomic
def sdv_mark_in_admin(*, actor, resource: str, record_id) -> SourceVerification:
    """The admin's mark: a record, or — when the record is a visit — the visit and its records
    (as `POST /api/sdv/` with `visit`). Returns the first new mark; 409 when all stand."""
    if resource != "visits":
        return sdv_mark(actor=actor, resource=resource, record_id=record_id)
    marks = sdv_mark_visit(actor=actor, visit_id=record_id)
    if not marks:
        raise Conflict("The visit and its records are already verified.")
    return marks[0]


def subject_of(record: models.Model) -> Hashable | None:
    """(resource, record id, version) of a written record; None for a new record (version 1:
    no mark can stand on a version older than it, so a create costs no statement)."""
    resource = RESOURCE_OF_MODEL.get(type(record))
    if resource is None or record.pk is None or record.version <= 1:
        return None
    return resource.name, record.pk, record.version


def clear_changed(subjects, *, actor, reason: str) -> None:
    """Clears the standing marks of records written at a newer version than the one verified
    (one statement to find them; nothing more when none stands)."""
    newest: dict[tuple[str, int], int] = {}
    for resource, record_id, version in subjects:
        newest[(resource, record_id)] = max(version, newest.get((resource, record_id), 0))
    query = models.Q()
    for resource, record_id in newest:
        query |= models.Q(resource=resource, record_id=record_id)
    marks = SourceVerification.objects.select_for_update().filter(query, is_cleared=False)
    for mark in marks:
        if newest[(mark.resource, mark.record_id)] <= mark.record_version:
            continue
        mark.is_cleared = True
        mark.cleared_at = timezone.now()
        mark.cleared_by = actor if getattr(actor, "pk", None) else None
        mark.cleared_reason = reason
        mark.version += 1
        save_audited(mark, actor=actor, reason=f"SDV cleared by a change: {reason}")


def _facts(resource: str, patients: models.QuerySet) -> list[tuple[int, RecordFact]]:
    """(patient id, fact) of the not voided records of one resource of these patients."""
    model = RESOURCES[resource].model
    if resource == "patients":
        rows = patients.filter(is_voided=False).values_list("pk", "pk")
        return [(pid, RecordFact(resource, pk)) for pid, pk in rows]
    records = model._default_manager.filter(patient__in=patients)
    if any(f.name == "is_voided" for f in model._meta.fields):
        records = records.filter(is_voided=False)
    if resource == "lab-results":
        return [
            (pid, RecordFact(resource, pk, test_code=code))
            for pid, pk, code in records.values_list("patient_id", "pk", "test_code")
        ]
    if resource == "adverse-events":
        return [
            (pid, RecordFact(resource, pk, serious=serious))
            for pid, pk, serious in records.values_list("patient_id", "pk", "is_serious")
        ]
    return [(pid, RecordFact(resource, pk)) for pid, pk in records.values_list("patient_id", "pk")]


def sdv_progress(
    actor, *, study_id: int | None = None, site_id: int | None = None, patient_id=None
) -> dict:
    """Per site and per patient of the study, or of all the actor's studies (the patients they
    see): required, verified (at the record's current version), cleared (the mark was cleared
    and not renewed). One statement per planned resource, one for the marks, one for the
    patients."""
    patients = scope_queryset(Patient.objects.all(), actor, Action.VIEW).select_related(
        "site", "protocol_version"
    )
    if study_id is not None:
        patients = patients.filter(study_id=study_id)
    if site_id is not None:
        patients = patients.filter(site_id=site_id)
    if patient_id is not None:
        patients = patients.filter(pk=patient_id)
    patient_rows = list(
        patients.only("id", "subject_id", "site__code", "protocol_version__content")
    )
    by_plan: dict[int, list[Patient]] = defaultdict(list)
    for patient in patient_rows:
        by_plan[patient.protocol_version_id].append(patient)
    required: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for group in by_plan.values():
        plan = group[0].protocol_version.content.get("sdv_plan")
        if not plan:
            continue
        ids = [p.pk for p in group]
        names = {rule["resource"] for rule in plan["all"]} | set(
            (plan.get("sample") or {}).get("resources", [])
        )
        for resource in sorted(names & set(PLAN_RESOURCES)):
            facts = _facts(resource, Patient.objects.filter(pk__in=ids))
            keys = required_records(plan, [fact for _, fact in facts])
            for pid, fact in facts:
                if (fact.resource, fact.record_id) in keys:
                    required[pid].add((fact.resource, fact.record_id))
    standing, cleared = set(), set()
    marks = SourceVerification.objects.filter(patient__in=[p.pk for p in patient_rows])
    for resource, record_id, is_cleared in marks.values_list("resource", "record_id", "is_cleared"):
        (cleared if is_cleared else standing).add((resource, record_id))
    cleared -= standing
    per_patient, per_site = [], {}
    for patient in sorted(patient_rows, key=lambda p: (p.site.code, p.subject_id)):
        needed = required[patient.pk]
        row = {
            "patient": patient.pk,
            "subject_id": patient.subject_id,
            "site": patient.site_id,
            "site_code": patient.site.code,
            "required": len(needed),
            "verified": len(needed & standing),
            "cleared": len(needed & cleared),
        }
        per_patient.append(row)
        site = per_site.setdefault(
            patient.site_id,
            {
                "site": patient.site_id,
                "site_code": patient.site.code,
                "required": 0,
                "verified": 0,
                "cleared": 0,
            },
        )
        for key in ("required", "verified", "cleared"):
            site[key] += row[key]
    return {"sites": list(per_site.values()), "patients": per_patient}
