"""Edit checks run on every write: queries raised by the system, closed when corrected.

The protocol version's `edit_checks` (parsed and validated by `ecrf.domain.edit_checks`) are
evaluated over the written patient's data after each audited write of a record they read —
registered with `ecrf.after_write` in this app's `AppConfig.ready()`, so the API, the admin, the
bulk import and the commands all run them. A finding without an unresolved query raises one
(`raised_by` empty: the system; `edit_check` names the check); an unresolved system query whose
finding is gone is closed with the correcting write's reason. A query a person closed (the value
was confirmed) is not raised again for the same record and field.

Cost per write: the patient with its protocol version, one read per kind of fact the affected
checks need, and the patient's system queries of those checks (a lab POST: 4 statements).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from django.db import models

from ecrf.audit import save_audited
from ecrf.domain.edit_checks import (
    DatedFact,
    Finding,
    LabFact,
    PatientFacts,
    VisitFact,
    evaluate_edit_checks,
    reads_of,
)
from patients.models import Consent, Patient
from visits.dosing.models import DoseRecord
from visits.labs.models import LabResult
from visits.models import Visit, VisitStatus
from visits.review.models import Query, QueryStatus
from visits.review.queries import close_query
from visits.safety.models import AdverseEvent

# The facts each written model can change (the kinds `ecrf.domain.edit_checks.reads_of` names).
CHECKED_MODELS: dict[type[models.Model], str] = {
    Patient: "patient",
    Consent: "consents",
    Visit: "visits",
    LabResult: "labs",
    DoseRecord: "doses",
    AdverseEvent: "adverse_events",
}


def subject_of(record: models.Model) -> Hashable | None:
    """(patient id, kind of fact written)."""
    patient_id = record.pk if isinstance(record, Patient) else getattr(record, "patient_id", None)
    if patient_id is None:
        return None
    return patient_id, CHECKED_MODELS[type(record)]


def run_edit_checks(subjects, *, actor, reason: str) -> None:
    written: dict[int, set[str]] = defaultdict(set)
    for patient_id, kind in subjects:
        written[patient_id].add(kind)
    for patient_id, kinds in sorted(written.items()):
        check_patient(patient_id, kinds, reason=reason)


def _facts(patient: Patient, needed: set[str]) -> PatientFacts:
    facts = PatientFacts(patient_id=patient.pk, day1=patient.day1)
    if "consents" in needed:
        first = (
            Consent.objects.filter(patient=patient, is_voided=False)
            .order_by("consented_at")
            .values_list("consented_at", flat=True)
            .first()
        )
        facts.consent = first
    if "labs" in needed:
        facts.labs = [
            LabFact(*row)
            for row in LabResult.objects.filter(patient=patient, is_voided=False).values_list(
                "id", "test_code", "value_std", "unit_std", "visit_id"
            )
        ]
    if "visits" in needed:
        facts.visits = [
            VisitFact(row[0], row[1], row[2] == VisitStatus.COMPLETED, *row[3:])
            for row in Visit.objects.filter(patient=patient, is_voided=False).values_list(
                "id", "code", "status", "actual_date", "window_start", "window_end"
            )
        ]
    if "adverse_events" in needed:
        rows = AdverseEvent.objects.filter(patient=patient, is_voided=False)
        facts.adverse_events = [DatedFact(*r) for r in rows.values_list("id", "onset_date")]
    if "doses" in needed:
        rows = DoseRecord.objects.filter(patient=patient, is_voided=False)
        facts.doses = [DatedFact(*r) for r in rows.values_list("id", "start_date")]
    return facts


def _key(item) -> tuple[str, str, int, str]:
    if isinstance(item, Finding):
        return item.check, item.resource, item.record_id, item.field
    return item.edit_check, item.resource, item.record_id, item.field


def check_patient(patient_id: int, written: set[str], *, reason: str) -> list[Finding]:
    """Re-evaluates the checks that read what was written; raises and closes their queries."""
    patient = (
        Patient.objects.select_related("protocol_version")
        .only("id", "study_id", "site_id", "day1", "protocol_version__content")
        .get(pk=patient_id)
    )
    checks = [
        check
        for check in patient.protocol_version.content.get("edit_checks", [])
        if reads_of(check) & written
    ]
    if not checks:
        return []
    needed = set().union(*(reads_of(check) for check in checks))
    findings = evaluate_edit_checks(checks, _facts(patient, needed))
    existing = list(
        Query.objects.select_for_update()
        .filter(patient_id=patient_id, edit_check__in=[check["code"] for check in checks])
        .order_by("id")
    )
    found = {_key(finding) for finding in findings}
    for query in existing:
        if query.status != QueryStatus.CLOSED and _key(query) not in found:
            close_query(query, actor=None, reason=f"Corrected: {reason}")
    # A person's closing stands (the value was confirmed); a system closing does not.
    covered = {
        _key(query)
        for query in existing
        if query.status != QueryStatus.CLOSED or query.closed_by_id is not None
    }
    raised = []
    for finding in findings:
        if _key(finding) in covered:
            continue
        covered.add(_key(finding))
        query = Query(
            study_id=patient.study_id,
            site_id=patient.site_id,
            patient_id=patient_id,
            resource=finding.resource,
            record_id=finding.record_id,
            field=finding.field,
            text=finding.text,
            raised_by=None,
            edit_check=finding.check,
        )
        save_audited(query, actor=None, reason=f"Raised by edit check {finding.check}")
        raised.append(finding)
    return raised
