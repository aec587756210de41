"""Investigator e-signatures (21 CFR Part 11 §11.50, §11.70, §11.200).

An investigator of the patient's site signs the patient's casebook (or one visit) by entering
their password again, with the signature's meaning. The signature stores the signer's printed
name, the time (UTC), the meaning, and every signed record's id and version, bound by their
SHA-256. Any later change of a signed record (a correction, a void, a new record) breaks it:
`signature_state` says `valid: false` and what changed, until the investigator signs again.

A wrong password is a 403 and counts as a failed login towards django-axes' lockout (the
password is checked through `django.contrib.auth.authenticate`, as every login is).
"""

from __future__ import annotations

import hashlib
import json

from django.contrib.auth import authenticate
from django.db import transaction

from ecrf.access import grants_for, is_unrestricted
from ecrf.audit import save_audited
from ecrf.exceptions import InvalidInput, PermissionRefused
from ecrf.models import Role
from patients.models import Patient
from visits.models import Visit
from visits.review.models import Signature
from visits.review.resources import RESOURCES

SignedRecord = tuple[str, int, int]  # resource, record id, version


def signed_records(patient: Patient, visit: Visit | None = None) -> list[SignedRecord]:
    """Every record of the patient (or of one visit), voided ones too, sorted: one statement per
    kind of record."""
    rows: list[SignedRecord] = []
    for name, resource in sorted(RESOURCES.items()):
        if visit is not None:
            if name == "visits":
                rows.append((name, visit.pk, Visit.objects.get(pk=visit.pk).version))
                continue
            if not any(f.name == "visit" for f in resource.model._meta.fields):
                continue
        lookup = (
            {"pk": patient.pk}
            if not resource.patient_path
            else {f"{resource.patient_path}_id": patient.pk}
        )
        records = resource.model._default_manager.filter(**lookup)
        if visit is not None:
            records = records.filter(visit_id=visit.pk)
        rows.extend((name, pk, version) for pk, version in records.values_list("pk", "version"))
    return sorted(rows)


def records_hash(records: list[SignedRecord]) -> str:
    # A list of lists, in a fixed order: the hash never depends on dict key order.
    canonical = json.dumps([list(r) for r in records], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _require_site_investigator(actor, patient: Patient) -> None:
    if is_unrestricted(actor):
        return
    if not any(
        g.study_id == patient.study_id
        and g.role == Role.INVESTIGATOR
        and g.covers_site(patient.site_id)
        for g in grants_for(actor)
    ):
        raise PermissionRefused("Only an investigator of the patient's site may sign.")


def require_signer(actor, patient: Patient) -> None:
    """The role check alone, made before the body is read (a 403 before any 400)."""
    _require_site_investigator(actor, patient)


def signature_create(
    *, actor, request, patient: Patient, password: str, meaning: str, visit: Visit | None = None
) -> Signature:
    _require_site_investigator(actor, patient)
    meaning = (meaning or "").strip()
    if not meaning:
        raise InvalidInput("Say what the signature means.", field="meaning")
    if visit is not None and (visit.patient_id != patient.pk or visit.is_voided):
        raise InvalidInput("Not a visit of this patient.", field="visit")
    # Through authenticate(), outside the write's transaction: a wrong password is a failed
    # login that django-axes records (and that must not be rolled back with the refusal).
    user = authenticate(request=request, username=actor.get_username(), password=password or "")
    if user is None or user.pk != actor.pk:
        raise PermissionRefused("The password is not correct.", field="password")
    with transaction.atomic():
        return _sign(actor, patient, visit, meaning)


def _sign(actor, patient: Patient, visit: Visit | None, meaning: str) -> Signature:
    records = signed_records(patient, visit)
    signature = Signature(
        study_id=patient.study_id,
        site_id=patient.site_id,
        patient=patient,
        visit=visit,
        signer=actor,
        printed_name=actor.get_full_name() or actor.get_username(),
        meaning=meaning,
        signed_records=[list(r) for r in records],
        records_hash=records_hash(records),
    )
    what = f"visit {visit.code}" if visit is not None else "casebook"
    return save_audited(signature, actor=actor, reason=f"Signed the {what}: {meaning}")


def signature_state(signature: Signature, current: list[SignedRecord] | None = None) -> dict:
    """`valid` and, when broken, what changed since the signing (changed, added, removed)."""
    if current is None:
        current = signed_records(signature.patient, signature.visit)
    if records_hash(current) == signature.records_hash:
        return {"valid": True, "changes": []}
    signed = {(r[0], r[1]): r[2] for r in signature.signed_records}
    now = {(r[0], r[1]): r[2] for r in current}
    changes = []
    for key in sorted(signed.keys() | now.keys()):
        before, after = signed.get(key), now.get(key)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        changes.append(
            {
                "resource": key[0],
                "record_id": key[1],
                "change": change,
                "signed_version": before,
                "current_version": after,
            }
        )
    return {"valid": False, "changes": changes}
