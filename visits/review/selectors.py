"""Reads of queries and locks, each in a fixed number of SQL statements."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ecrf.access import Action, scope_q, scope_queryset
from patients.models import Patient
from visits.review.models import DataLock, Query, QueryStatus


def visible_queries(user) -> QuerySet[Query]:
    queries = Query.objects.select_related(
        "patient", "site", "study", "raised_by", "answered_by", "closed_by"
    )
    return scope_queryset(queries, user, Action.VIEW)


def opened_before(days: int, *, now: dt.datetime | None = None) -> dt.datetime:
    """Queries at least `days` old were opened at or before this moment."""
    return (now or timezone.now()) - dt.timedelta(days=days)


def age_in_days(query: Query, *, now: dt.datetime | None = None) -> int:
    """Whole days since the query was (first) opened."""
    return ((now or timezone.now()) - query.opened_at).days


def open_queries_per_site(user) -> list[dict]:
    """Open and answered (not yet closed) queries per site of the user's studies, one query."""
    rows = (
        scope_queryset(Query.objects.all(), user, Action.VIEW)
        .exclude(status=QueryStatus.CLOSED)
        .values("study__registry_id", "site_id", "site__code")
        .annotate(
            open=Count("id", filter=Q(status=QueryStatus.OPEN)),
            answered=Count("id", filter=Q(status=QueryStatus.ANSWERED)),
        )
        .order_by("study__registry_id", "site__code")
    )
    return [
        {
            "study": row["study__registry_id"],
            "site": row["site_id"],
            "site_code": row["site__code"],
            "open": row["open"],
            "answered": row["answered"],
        }
        for row in rows
    ]


def unresolved_queries_by_record(patient: Patient) -> dict[tuple[str, int], list[Query]]:
    """The patient's not yet closed queries, keyed by (resource, record id), one query."""
    by_record: dict[tuple[str, int], list[Query]] = defaultdict(list)
    unresolved = (
        Query.objects.filter(patient=patient)
        .exclude(status=QueryStatus.CLOSED)
        .select_related("raised_by")
        .order_by("opened_at", "id")
    )
    for query in unresolved:
        by_record[(query.resource, query.record_id)].append(query)
    return dict(by_record)


def visible_locks(user) -> QuerySet[DataLock]:
    locks = DataLock.objects.select_related("study", "patient", "visit", "placed_by", "released_by")
    # Study-wide locks have no patient: scoped by study only; the others by the patient's site.
    study_q = Q(scope="study") & _study_scope(user)
    site_q = ~Q(scope="study") & _patient_scope(user)
    return locks.filter(study_q | site_q)


def _study_scope(user) -> Q:
    return scope_q(user, Action.VIEW, study_field="study", site_field=None) or Q()


def _patient_scope(user) -> Q:
    condition = scope_q(user, Action.VIEW, study_field="patient__study", site_field="patient__site")
    return condition or Q()
