"""Reads of safety data, each with a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from patients.models import Patient
from visits.labs.models import LabResult
from visits.safety.models import AdverseEvent, AdverseEventDrugAssessment, CtcaeTerm


def ctcae_terms_queryset() -> QuerySet[CtcaeTerm]:
    return CtcaeTerm.objects.all()


def adverse_events_queryset() -> QuerySet[AdverseEvent]:
    assessments = AdverseEventDrugAssessment.objects.filter(is_voided=False).order_by("drug")
    return AdverseEvent.objects.select_related("patient", "term", "visit").prefetch_related(
        Prefetch("drug_assessments", queryset=assessments)
    )


def drug_assessments_queryset() -> QuerySet[AdverseEventDrugAssessment]:
    return AdverseEventDrugAssessment.objects.select_related("adverse_event__patient")


@dataclass(frozen=True)
class AeSuggestion:
    lab_result_id: int
    collected_at: dt.datetime
    test_code: str
    value_std: Decimal
    unit_std: str
    term: str
    meddra_code: str
    term_id: int | None
    grade: int
    basis: str
    adverse_event_id: int | None  # an event of this term already covering the collection day


def lab_ae_suggestions(patient: Patient) -> list[AeSuggestion]:
    """Lab values of grade ≥ 1 the patient's protocol does not exclude (excluded terms are
    never stored as suggestions), newest first, with any event already recorded for them.
    Three queries whatever the number of results."""
    results = list(
        LabResult.objects.filter(patient=patient, is_voided=False, ctcae_grade__gte=1)
        .exclude(ctcae_term="")
        .order_by("-collected_at", "-pk")
    )
    codes = {r.ctcae_meddra_code for r in results}
    term_ids = dict(
        CtcaeTerm.objects.filter(
            ctcae_version=patient.study.ctcae_version, meddra_code__in=codes
        ).values_list("meddra_code", "pk")
    )
    events = list(
        AdverseEvent.objects.filter(
            Q(term__meddra_code__in=codes), patient=patient, is_voided=False
        ).values_list("pk", "term__meddra_code", "onset_date", "resolution_date")
    )

    def covering_event(result: LabResult) -> int | None:
        day = timezone.localdate(result.collected_at)
        for pk, code, onset, resolved in events:
            if code == result.ctcae_meddra_code and onset <= day <= (resolved or dt.date.max):
                return pk
        return None

    return [
        AeSuggestion(
            lab_result_id=r.pk,
            collected_at=r.collected_at,
            test_code=r.test_code,
            value_std=r.value_std,
            unit_std=r.unit_std,
            term=r.ctcae_term,
            meddra_code=r.ctcae_meddra_code,
            term_id=term_ids.get(r.ctcae_meddra_code),
            grade=r.ctcae_grade,
            basis=r.ctcae_basis,
            adverse_event_id=covering_event(r),
        )
        for r in results
    ]
