"""Reads about patients, each with a fixed number of queries.

`consort_counts` and `patient_timelines` are shared with the reporting code.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Max, Model, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from ecrf.access import Action, scope_queryset
from ecrf.exceptions import InvalidInput
from patients.models import Consent, EligibilityAssessment, Patient, PatientStatus
from trials.models import Study

RecordOfPatient = TypeVar("RecordOfPatient", bound=Model)
UNKNOWN_PATIENT = "Unknown patient."


def visible_patients(user, action: Action = Action.VIEW) -> QuerySet[Patient]:
    """The patients `user` may `action` (voided ones too), with their study, site, arm and
    protocol version."""
    patients = Patient.objects.select_related("study", "site", "arm", "protocol_version")
    return scope_queryset(patients, user, action)


def visible_patient(user, patient_id: int) -> Patient:
    """The patient of a URL if the user may see them; unknown and foreign patients are both a
    404."""
    patient = visible_patients(user).filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def patient_named_in_request(user, patient_id: int | None) -> Patient:
    """The patient a request body names if the user may see them; unknown and foreign patients
    are both a 400 naming `patient`. Whether the user may enter data is the service's check."""
    patients = visible_patients(user)
    patient = patients.filter(pk=patient_id).first() if patient_id is not None else None
    if patient is None:
        raise InvalidInput(UNKNOWN_PATIENT, field="patient")
    return patient


def referenced_record(
    model: type[RecordOfPatient], record_id: int | None
) -> RecordOfPatient | None:
    """The record (a visit, a lab result, ...) a request names by id, or a placeholder of no
    patient when there is none: the service's "of this patient" check refuses both alike, so
    an id outside the user's scope is never confirmed to exist."""
    if record_id is None:
        return None
    return model._default_manager.filter(pk=record_id).first() or model(pk=0, patient_id=0)


def latest_consent(patient: Patient) -> Consent | None:
    return (
        Consent.objects.filter(patient=patient, is_voided=False)
        .order_by("-consented_at", "-id")
        .first()
    )


def latest_assessment(patient: Patient) -> EligibilityAssessment | None:
    return EligibilityAssessment.objects.filter(patient=patient).order_by("-id").first()


# --- Timelines --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientTimeline:
    """What time-dependent calculations need about a patient: day 1, arm, end of study."""

    patient_id: int
    status: str
    day1: dt.date | None
    arm_id: int | None
    arm_code: str | None
    withdrawn_on: dt.date | None


def patient_timelines(patient_ids: Iterable[int]) -> dict[int, PatientTimeline]:
    """Timelines of many patients in one query, by patient id (unknown ids are left out)."""
    rows = Patient.objects.filter(pk__in=list(patient_ids)).values(
        "pk", "status", "day1", "arm_id", "arm__code", "status_changed_on"
    )
    return {
        row["pk"]: PatientTimeline(
            patient_id=row["pk"],
            status=row["status"],
            day1=row["day1"],
            arm_id=row["arm_id"],
            arm_code=row["arm__code"],
            withdrawn_on=(
                row["status_changed_on"] if row["status"] == PatientStatus.WITHDRAWN else None
            ),
        )
        for row in rows
    }


def patient_timeline(patient_id: int) -> PatientTimeline:
    timeline = patient_timelines([patient_id]).get(patient_id)
    if timeline is None:
        raise Patient.DoesNotExist(patient_id)
    return timeline


# --- CONSORT ----------------------------------------------------------------------------------


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` in the project's time zone (data cuts are inclusive)."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _patient_states(study: Study, as_of: dt.date | None, site_ids) -> QuerySet:
    """Each patient's status, arm and reasons, now or as they stood at the end of `as_of`.

    The cut reads the audit history (the last history row of each patient written before the
    end of that day), so corrections made later do not change an earlier cut.
    """
    if as_of is None:
        rows = Patient.objects.filter(study=study)
    else:
        history = Patient.history.filter(study_id=study.pk, history_date__lt=end_of_day(as_of))
        last_rows = history.order_by().values("id").annotate(last=Max("history_id")).values("last")
        rows = Patient.history.filter(history_id__in=Subquery(last_rows)).exclude(history_type="-")
    if site_ids is not None:
        rows = rows.filter(site_id__in=list(site_ids))
    return rows.filter(is_voided=False).values("status", "arm_id", "status_reason_codes")


def _reasons(counter: Counter) -> list[dict]:
    return [
        {"reason": code, "count": count}
        for code, count in sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    ]


def consort_counts(
    study: Study, *, as_of: dt.date | None = None, site_ids: Iterable[int] | None = None
) -> dict:
    """The CONSORT flow of a study: screened, screen failures with reasons, allocated per arm,
    on treatment, in follow-up, withdrawn with reasons, completed — now or `as_of` a date.

    `site_ids` limits the counts to some sites (a user who sees only their sites).
    """
    states = list(_patient_states(study, as_of, site_ids))
    by_status = Counter(row["status"] for row in states)
    failure_reasons: Counter = Counter()
    for row in states:
        if row["status"] == PatientStatus.SCREEN_FAILED:
            failure_reasons.update(set(row["status_reason_codes"] or ["unspecified"]))

    arms = []
    withdrawal_reasons: Counter = Counter()
    for arm in study.arms.order_by("code"):
        members = [row for row in states if row["arm_id"] == arm.pk]
        statuses = Counter(row["status"] for row in members)
        reasons = Counter(
            code
            for row in members
            if row["status"] == PatientStatus.WITHDRAWN
            for code in (row["status_reason_codes"] or ["unspecified"])
        )
        withdrawal_reasons.update(reasons)
        arms.append(
            {
                "arm": arm.code,
                "name": arm.name,
                "allocated": len(members),
                "awaiting_treatment": statuses[PatientStatus.RANDOMIZED]
                + statuses[PatientStatus.ENROLLED],
                "on_treatment": statuses[PatientStatus.ON_TREATMENT],
                "follow_up": statuses[PatientStatus.FOLLOW_UP],
                "completed": statuses[PatientStatus.COMPLETED],
                "withdrawn": statuses[PatientStatus.WITHDRAWN],
                "withdrawal_reasons": _reasons(reasons),
            }
        )
    return {
        "study": study.registry_id,
        "as_of": as_of,
        "allocation": "randomized" if study.is_randomized else "enrolled",
        "screened": len(states),
        "in_screening": by_status[PatientStatus.SCREENING],
        "eligible_not_allocated": by_status[PatientStatus.ELIGIBLE],
        "screen_failed": by_status[PatientStatus.SCREEN_FAILED],
        "screen_failure_reasons": _reasons(failure_reasons),
        "allocated": sum(arm["allocated"] for arm in arms),
        "on_treatment": by_status[PatientStatus.ON_TREATMENT],
        "follow_up": by_status[PatientStatus.FOLLOW_UP],
        "completed": by_status[PatientStatus.COMPLETED],
        "withdrawn": by_status[PatientStatus.WITHDRAWN],
        "withdrawal_reasons": _reasons(withdrawal_reasons),
        "arms": arms,
    }
