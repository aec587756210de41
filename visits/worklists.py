"""The coordinator's morning worklists: what needs doing today at the user's sites.

- overdue visits: the window has closed and nothing was recorded;
- visits due this week: the window is open at some point in the coming seven days;
- labs awaiting an investigator's CTCAE decision: a value the CTCAE grades 1 or more (a term
  the protocol does not exclude) with no adverse event recorded from it or of its term
  covering its collection day — the same rule as `GET /api/patients/{id}/ae-suggestions/`;
- SAEs inside their 24-hour reporting window (ICH E2A: from the site's awareness).

Each is a filter of its admin list (`?worklist=...`), and the admin index shows their counts
(`worklist_summary`), each a link to its list. Only live records of live patients count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from ecrf.access import Action, scope_queryset
from patients.models import PatientStatus
from visits.labs.models import LabResult
from visits.models import Visit, VisitStatus
from visits.safety.models import SAE_REPORTING_WINDOW, AdverseEvent

# Patients whose calendar still runs: a withdrawn or completed patient has no visits due.
FOLLOWED_STATUSES = (
    PatientStatus.RANDOMIZED,
    PatientStatus.ENROLLED,
    PatientStatus.ON_TREATMENT,
    PatientStatus.FOLLOW_UP,
)
DAYS_AHEAD = 7


def _open_visits(visits: QuerySet[Visit]) -> QuerySet[Visit]:
    return visits.filter(
        status=VisitStatus.SCHEDULED,
        is_voided=False,
        patient__is_voided=False,
        patient__status__in=FOLLOWED_STATUSES,
    )


def overdue_visits(visits: QuerySet[Visit], today: dt.date) -> QuerySet[Visit]:
    return _open_visits(visits).filter(window_end__lt=today)


def visits_due_this_week(visits: QuerySet[Visit], today: dt.date) -> QuerySet[Visit]:
    week_end = today + dt.timedelta(days=DAYS_AHEAD)
    return _open_visits(visits).filter(window_start__lte=week_end, window_end__gte=today)


def labs_awaiting_ctcae_decision(results: QuerySet[LabResult]) -> QuerySet[LabResult]:
    collected_on = TruncDate("collected_at")  # in the project's time zone, as the API's rule
    events = AdverseEvent.objects.filter(patient=OuterRef("patient"), is_voided=False)
    recorded_from_it = events.filter(lab_result=OuterRef("pk"))
    covering = events.filter(
        Q(resolution_date__isnull=True) | Q(resolution_date__gte=OuterRef("collected_on")),
        term__meddra_code=OuterRef("ctcae_meddra_code"),
        onset_date__lte=OuterRef("collected_on"),
    )
    return (
        results.filter(is_voided=False, patient__is_voided=False, ctcae_grade__gte=1)
        .exclude(ctcae_term="")
        .annotate(collected_on=collected_on)
        .filter(~Exists(recorded_from_it), ~Exists(covering))
    )


def saes_in_reporting_window(events: QuerySet[AdverseEvent], now: dt.datetime):
    return events.filter(
        is_voided=False,
        patient__is_voided=False,
        is_serious=True,
        site_aware_at__gt=now - SAE_REPORTING_WINDOW,
        site_aware_at__lte=now,
    )


class _WorklistFilter(admin.SimpleListFilter):
    title = "worklist"
    parameter_name = "worklist"
    options: dict[str, str] = {}

    def lookups(self, request, model_admin):
        return list(self.options.items())


class VisitWorklistFilter(_WorklistFilter):
    options = {
        "overdue": "Overdue (window closed, not recorded)",
        "week": "Due this week",
    }

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return overdue_visits(queryset, today)
        if self.value() == "week":
            return visits_due_this_week(queryset, today)
        return queryset


class LabWorklistFilter(_WorklistFilter):
    options = {"awaiting_ctcae": "Awaiting an investigator's CTCAE decision"}

    def queryset(self, request, queryset):
        if self.value() == "awaiting_ctcae":
            return labs_awaiting_ctcae_decision(queryset)
        return queryset


class AdverseEventWorklistFilter(_WorklistFilter):
    options = {"sae_window": "SAE inside its 24-hour reporting window"}

    def queryset(self, request, queryset):
        if self.value() == "sae_window":
            return saes_in_reporting_window(queryset, timezone.now())
        return queryset


@dataclass(frozen=True)
class Worklist:
    key: str
    title: str
    count: int
    url: str
    urgent: bool  # something late or against a deadline, shown in red when there is any


def worklist_summary(user) -> list[Worklist]:
    """The four worklists of the user's sites with their counts (four count queries)."""

    def scoped(model):
        return scope_queryset(
            model.objects.all(),
            user,
            Action.VIEW,
            study_field="patient__study",
            site_field="patient__site",
        )

    today, now = timezone.localdate(), timezone.now()
    visits = reverse("admin:visits_visit_changelist")
    labs = reverse("admin:labs_labresult_changelist")
    events = reverse("admin:safety_adverseevent_changelist")
    return [
        Worklist(
            "overdue",
            "Overdue visits",
            overdue_visits(scoped(Visit), today).count(),
            f"{visits}?worklist=overdue",
            urgent=True,
        ),
        Worklist(
            "week",
            "Visits due this week",
            visits_due_this_week(scoped(Visit), today).count(),
            f"{visits}?worklist=week",
            urgent=False,
        ),
        Worklist(
            "awaiting_ctcae",
            "Labs awaiting an investigator's CTCAE decision",
            labs_awaiting_ctcae_decision(scoped(LabResult)).count(),
            f"{labs}?worklist=awaiting_ctcae",
            urgent=False,
        ),
        Worklist(
            "sae_window",
            "SAEs inside their 24-hour reporting window",
            saes_in_reporting_window(scoped(AdverseEvent), now).count(),
            f"{events}?worklist=sae_window",
            urgent=True,
        ),
    ]
