"""The casebook's part of data management: each unresolved query at its record, a summary of
them, the patient's freezes and locks, and a "query" link on each record for those who raise
queries. Registered with `visits.admin_casebook.register_casebook_extension`; two statements."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from ecrf.access import Action, can
from ecrf.exceptions import PermissionRefused
from visits.admin_casebook import add_url
from visits.review.models import DataLock, LockScope, Signature, SourceVerification
from visits.review.sdv import sdv_progress
from visits.review.selectors import unresolved_queries_by_record
from visits.review.signatures import require_signer, signature_state, signed_records


def _records_by_resource(casebook) -> dict[str, list]:
    return {
        "patients": [casebook.patient],
        "visits": casebook.visits,
        "lab-results": [r for group in casebook.labs_by_visit for r in group.results],
        "adverse-events": casebook.adverse_events,
        "dose-records": casebook.dose_records,
        "dose-adjustments": casebook.dose_adjustments,
        "bleeding-assessments": casebook.bleeding,
        "rescue-therapies": casebook.rescue,
    }


def annotate_casebook(request, patient, casebook, context: dict) -> None:
    by_record = unresolved_queries_by_record(patient)
    may_raise = can(
        request.user, Action.MANAGE_QUERIES, study_id=patient.study_id, site_id=patient.site_id
    )
    for resource, records in _records_by_resource(casebook).items():
        for record in records:
            record.open_queries = by_record.get((resource, record.pk), [])
            if may_raise:
                record.raise_query_url = add_url(
                    "review/query", resource=resource, record_id=record.pk
                )
    unresolved = sorted(
        (query for queries in by_record.values() for query in queries),
        key=lambda query: (query.opened_at, query.pk),
    )
    for query in unresolved:
        query.admin_url = reverse("admin:review_query_change", args=[query.pk])
        query.raiser = query.raised_by.username if query.raised_by else "system"
    context["open_queries"] = unresolved
    context["locks"] = list(
        DataLock.objects.filter(is_active=True)
        .filter(Q(patient=patient) | Q(scope=LockScope.STUDY, study_id=patient.study_id))
        .select_related("visit")
        .order_by("placed_at", "id")
    )


def annotate_sdv(request, patient, casebook, context: dict) -> None:
    """Each record's source verification (standing mark, or the last cleared one and why), a
    "verify" link for monitors and data managers, and the patient's progress against the plan.
    Statements: the patient's marks, and the progress (one per planned resource, two more)."""
    standing, cleared = {}, {}
    marks = SourceVerification.objects.filter(patient=patient).select_related(
        "verified_by", "cleared_by"
    )
    for mark in marks.order_by("verified_at", "id"):
        key = (mark.resource, mark.record_id)
        (cleared if mark.is_cleared else standing)[key] = mark
    may_verify = can(
        request.user, Action.VERIFY_SOURCE, study_id=patient.study_id, site_id=patient.site_id
    )
    for resource, records in _records_by_resource(casebook).items():
        for record in records:
            key = (resource, record.pk)
            record.sdv_mark = standing.get(key)
            record.sdv_cleared = None if record.sdv_mark else cleared.get(key)
            if may_verify and record.sdv_mark is None:
                record.verify_url = add_url(
                    "review/sourceverification", resource=resource, record_id=record.pk
                )
    progress = sdv_progress(request.user, patient_id=patient.pk)["patients"]
    context["sdv_progress"] = progress[0] if progress else None
    context["sdv_list_url"] = (
        reverse("admin:review_sourceverification_changelist") + f"?patient__id__exact={patient.pk}"
    )


def annotate_signatures(request, patient, casebook, context: dict) -> None:
    """The patient's signatures (printed name, UTC time, meaning, valid or what broke them) and
    the "Sign" link for an investigator of the site. The current records are read once per
    signed scope (the casebook, each signed visit)."""
    signatures = list(
        Signature.objects.filter(patient=patient).select_related("visit").order_by("-signed_at")
    )
    current: dict = {}
    for signature in signatures:
        if signature.visit_id not in current:
            current[signature.visit_id] = signed_records(patient, signature.visit)
        state = signature_state(signature, current[signature.visit_id])
        signature.valid = state["valid"]
        signature.changes = state["changes"]
    context["signatures"] = signatures
    try:
        require_signer(request.user, patient)
    except PermissionRefused:
        context["sign_url"] = None
    else:
        context["sign_url"] = reverse("admin:review_signature_sign", args=[patient.pk])
