"""Queries (discrepancy management): raise, answer, close, re-open.

States: open → answered → closed; a closed (or answered) query can be re-opened. A monitor or a
data manager raises, closes and re-opens (`Action.MANAGE_QUERIES`); the site's coordinator or
investigator answers (`Action.ANSWER_QUERIES`). Each step is one audited write: the query's
history row carries the user, the time (UTC) and the step's text as its reason.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from ecrf.access import Action, can
from ecrf.audit import require_reason, save_audited
from ecrf.exceptions import Conflict, InvalidInput, PermissionRefused
from patients.models import Patient
from visits.review.models import Query, QueryStatus
from visits.review.resources import Resource, check_field, resource_named

UNKNOWN_RECORD = "No such record."
MANAGE_ACTION = Action.MANAGE_QUERIES
ANSWER_ACTION = Action.ANSWER_QUERIES


def _require(actor, action: Action, patient: Patient) -> None:
    if not can(actor, action, study_id=patient.study_id, site_id=patient.site_id):
        raise PermissionRefused(f"Your role does not allow this ({action.value}).")


def require_step(actor, action: Action, query: Query) -> None:
    """The role check of a step on a stored query (also made again inside the service)."""
    if not can(actor, action, study_id=query.study_id, site_id=query.site_id):
        raise PermissionRefused(f"Your role does not allow this ({action.value}).")


def queried_record(actor, resource: Resource, record_id) -> tuple[Model, Patient]:
    """The record a query names and its patient; an unknown record and one the actor may not see
    are both a 400 naming `record_id` (its existence is not confirmed)."""
    try:
        record_id = int(record_id)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("Must be the record's id (an integer).", field="record_id") from exc
    related = [resource.patient_path] if resource.patient_path else []
    record = (
        resource.model._default_manager.select_related(*related).filter(pk=record_id).first()
        if record_id > 0
        else None
    )
    if record is None:
        raise InvalidInput(UNKNOWN_RECORD, field="record_id")
    patient = resource.patient_of(record)
    if not can(actor, Action.VIEW, study_id=patient.study_id, site_id=patient.site_id):
        raise InvalidInput(UNKNOWN_RECORD, field="record_id")
    return record, patient


def _text(text: str | None, field: str = "text") -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidInput("Say what the query is about.", field=field)
    return cleaned


@transaction.atomic
def query_raise(
    *, actor, resource: str, record_id, text: str | None, field: str | None = ""
) -> Query:
    """A monitor's or data manager's question on a record (or one field of it) or a visit."""
    named = resource_named(resource)
    record, patient = queried_record(actor, named, record_id)
    _require(actor, Action.MANAGE_QUERIES, patient)
    query = Query(
        study_id=patient.study_id,
        site_id=patient.site_id,
        patient=patient,
        resource=named.name,
        record_id=record.pk,
        field=check_field(named, field),
        text=_text(text),
        raised_by=actor,
    )
    return save_audited(query, actor=actor, reason=f"Query raised: {query.text}")


def _locked(query: Query) -> Query:
    return Query.objects.select_for_update().select_related("patient").get(pk=query.pk)


def _step(query: Query, *, actor, reason: str) -> Query:
    query.version += 1
    return save_audited(query, actor=actor, reason=reason)


@transaction.atomic
def query_answer(*, actor, query: Query, text: str | None) -> Query:
    """The site's answer (after correcting the data, if it was wrong)."""
    query = _locked(query)
    _require(actor, Action.ANSWER_QUERIES, query.patient)
    answer = _text(text)
    if query.status != QueryStatus.OPEN:
        raise Conflict(f"Only an open query can be answered; this one is {query.status}.")
    query.status = QueryStatus.ANSWERED
    query.answer = answer
    query.answered_by = actor
    query.answered_at = timezone.now()
    return _step(query, actor=actor, reason=f"Query answered: {answer}")


@transaction.atomic
def query_close(*, actor, query: Query, reason: str | None) -> Query:
    """Closed by a monitor or data manager, with why (the answer resolves it, or it was raised
    in error)."""
    query = _locked(query)
    _require(actor, Action.MANAGE_QUERIES, query.patient)
    reason = require_reason(reason)
    if query.status == QueryStatus.CLOSED:
        raise Conflict("The query is already closed.")
    return close_query(query, actor=actor, reason=reason)


def close_query(query: Query, *, actor, reason: str) -> Query:
    """Closes a locked, not yet closed query (also used by edit checks, actor None)."""
    query.status = QueryStatus.CLOSED
    query.closed_by = actor
    query.closed_at = timezone.now()
    query.close_reason = reason
    return _step(query, actor=actor, reason=f"Query closed: {reason}")


@transaction.atomic
def query_reopen(*, actor, query: Query, reason: str | None) -> Query:
    """Back to open: the answer did not resolve it, or it was closed too early."""
    query = _locked(query)
    _require(actor, Action.MANAGE_QUERIES, query.patient)
    reason = require_reason(reason)
    if query.status == QueryStatus.OPEN:
        raise Conflict("The query is already open.")
    query.status = QueryStatus.OPEN
    query.closed_by = None
    query.closed_at = None
    query.close_reason = ""
    return _step(query, actor=actor, reason=f"Query re-opened: {reason}")
