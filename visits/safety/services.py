"""Writes on the CTCAE dictionary, adverse events and their per-drug assessments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from ecrf.access import Action
from ecrf.audit import check_version, require_reason, save_audited, update_audited
from ecrf.domain.ctcae_terms import CtcaeTerm as DomainTerm
from ecrf.exceptions import InvalidInput
from ecrf.record_writes import RecordWrites
from patients.models import Patient
from patients.services import check_patient_access, check_patient_open
from trials.models import Regimen
from visits.labs.models import LabResult
from visits.labs.services import CLOCK_SKEW
from visits.models import Visit
from visits.safety.models import (
    ENDED_OUTCOMES,
    GRADES,
    SERIOUSNESS_FIELDS,
    AdverseEvent,
    AdverseEventDrugAssessment,
    CtcaeTerm,
    Outcome,
    TermSource,
)
from visits.services import check_visit_of_patient

SERIOUSNESS_NAMES = tuple(SERIOUSNESS_FIELDS.values())

# --- The dictionary ------------------------------------------------------------------------------


def term_fields(term: DomainTerm) -> dict[str, Any]:
    grades = {f"grade{grade}": text for grade, text in enumerate(term.grades, start=1)}
    return {"soc": term.soc, "term": term.term, "definition": term.definition, **grades}


@dataclass(frozen=True)
class TermImportReport:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@transaction.atomic
def ctcae_terms_import(
    *, actor, terms: list[DomainTerm], source_name: str, ctcae_version: str = "5.0"
) -> TermImportReport:
    """Creates missing terms and updates changed ones, one audited save each; identical terms
    are left alone, so importing the same file twice changes nothing."""
    reason = f"CTCAE v{ctcae_version} import {source_name}"
    stored = {
        t.meddra_code: t
        for t in CtcaeTerm.objects.select_for_update().filter(ctcae_version=ctcae_version)
    }
    created = updated = unchanged = 0
    for term in terms:
        fields = term_fields(term)
        existing = stored.get(term.meddra_code)
        if existing is None:
            row = CtcaeTerm(
                ctcae_version=ctcae_version,
                meddra_code=term.meddra_code,
                source=TermSource.NCI,
                **fields,
            )
            save_audited(row, actor=actor, reason=reason)
            created += 1
        elif any(getattr(existing, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(existing, name, value)
            existing.source = TermSource.NCI
            existing.version += 1
            save_audited(existing, actor=actor, reason=reason)
            updated += 1
        else:
            unchanged += 1
    return TermImportReport(created, updated, unchanged)


def resolve_term(value: str, ctcae_version: str, field: str = "term") -> CtcaeTerm:
    """A dictionary term by MedDRA code or by its exact name (case-insensitive)."""
    key = (value or "").strip()
    terms = CtcaeTerm.objects.filter(ctcae_version=ctcae_version)
    found = (
        terms.filter(meddra_code=key).first()
        if key.isdigit()
        else terms.filter(term__iexact=key).first()
    )
    if found is None:
        raise InvalidInput(
            f"{value!r} is not a CTCAE v{ctcae_version} term (give its MedDRA code or name).",
            field=field,
        )
    return found


# --- Adverse events -----------------------------------------------------------------------------


def study_drugs_of(patient: Patient) -> dict[str, str]:
    """The drugs of the patient's arm in the patient's protocol version, by lower-case name."""
    if patient.arm_id is None:
        return {}
    drugs = Regimen.objects.filter(
        protocol_version_id=patient.protocol_version_id, arm_id=patient.arm_id
    ).values_list("drug", flat=True)
    return {drug.casefold(): drug for drug in drugs}


def study_drug(patient: Patient, drug: str, field: str = "drug") -> str:
    """The canonical spelling of one of the patient's study drugs, or a 400 naming `field`."""
    drugs = study_drugs_of(patient)
    found = drugs.get((drug or "").strip().casefold())
    if found is None:
        offered = ", ".join(sorted(drugs.values())) or "none: the patient has no arm yet"
        raise InvalidInput(
            f"{drug!r} is not a study drug of this patient's arm (study drugs: {offered}).",
            field=field,
        )
    return found


def check_adverse_event(event: AdverseEvent) -> None:
    """Everything an adverse event must satisfy, on its final state (create or update)."""
    patient = event.patient
    check_patient_open(patient)
    check_visit_of_patient(event.visit, patient)
    if event.lab_result is not None and (
        event.lab_result.patient_id != patient.pk or event.lab_result.is_voided
    ):
        raise InvalidInput("Unknown lab result for this patient.", field="lab_result")
    _check_term_and_grade(event)
    _check_dates(event)
    _check_outcome(event)
    _check_seriousness(event)


def _check_term_and_grade(event: AdverseEvent) -> None:
    wanted = event.patient.study.ctcae_version
    if event.term.ctcae_version != wanted:
        raise InvalidInput(f"The study codes adverse events in CTCAE v{wanted}.", field="term")
    if event.grade not in GRADES:
        raise InvalidInput("CTCAE grades run from 1 to 5.", field="grade")
    if event.term.grade_text(event.grade) is None:
        existing = ", ".join(str(g) for g in event.term.existing_grades)
        raise InvalidInput(
            f"'{event.term.term}' has no grade {event.grade} (its grades: {existing}).",
            field="grade",
        )


def _check_dates(event: AdverseEvent) -> None:
    patient, today = event.patient, timezone.localdate()
    if event.onset_date > today:
        raise InvalidInput("Must not be in the future.", field="onset_date")
    if event.onset_date < patient.screened_on:
        # Before consent a condition is medical history, not an adverse event of the trial.
        raise InvalidInput(
            f"Is before the patient was screened ({patient.screened_on:%Y-%m-%d}); earlier "
            "conditions are medical history.",
            field="onset_date",
        )
    if event.resolution_date is not None:
        if event.resolution_date < event.onset_date:
            raise InvalidInput("Must not be before the onset date.", field="resolution_date")
        if event.resolution_date > today:
            raise InvalidInput("Must not be in the future.", field="resolution_date")


def _check_outcome(event: AdverseEvent) -> None:
    ended = event.outcome in ENDED_OUTCOMES
    if event.resolution_date is not None and not ended:
        raise InvalidInput(
            "An event with a resolution date has ended: choose recovered, recovered with "
            "sequelae or fatal.",
            field="outcome",
        )
    if event.outcome in (Outcome.RECOVERED, Outcome.RECOVERED_WITH_SEQUELAE) and (
        event.resolution_date is None
    ):
        raise InvalidInput("A resolved event needs its resolution date.", field="resolution_date")
    # CTCAE grade 5 is "death related to the adverse event": the two always go together.
    if (event.grade == 5) != (event.outcome == Outcome.FATAL):
        raise InvalidInput(
            "Grade 5 (death) and the fatal outcome go together.",
            field="outcome" if event.grade == 5 else "grade",
        )


def _check_seriousness(event: AdverseEvent) -> None:
    criteria = [name for name in SERIOUSNESS_FIELDS if getattr(event, name)]
    if event.outcome == Outcome.FATAL and not (event.is_serious and event.serious_death):
        raise InvalidInput(
            "A fatal event is serious with the criterion 'death'.", field="seriousness_criteria"
        )
    if event.is_serious and not criteria:
        raise InvalidInput(
            "A serious adverse event needs at least one seriousness criterion "
            f"({', '.join(SERIOUSNESS_NAMES)}).",
            field="seriousness_criteria",
        )
    if criteria and not event.is_serious:
        raise InvalidInput(
            "Seriousness criteria are given: mark the event serious (is_serious).",
            field="is_serious",
        )
    if event.is_serious and event.site_aware_at is None:
        raise InvalidInput(
            "A serious adverse event needs the time the site became aware of it (the 24-hour "
            "reporting clock starts there).",
            field="site_aware_at",
        )
    if event.site_aware_at is not None:
        if event.site_aware_at > timezone.now() + CLOCK_SKEW:
            raise InvalidInput("Must not be in the future.", field="site_aware_at")
        if timezone.localdate(event.site_aware_at) < event.onset_date:
            raise InvalidInput("Must not be before the onset date.", field="site_aware_at")


def seriousness_flags(criteria: list[str] | None) -> dict[str, bool]:
    chosen = set(criteria or ())
    unknown = chosen - set(SERIOUSNESS_NAMES)
    if unknown:
        raise InvalidInput(
            f"Unknown seriousness criterion {sorted(unknown)[0]!r} "
            f"(choose from {', '.join(SERIOUSNESS_NAMES)}).",
            field="seriousness_criteria",
        )
    return {field: name in chosen for field, name in SERIOUSNESS_FIELDS.items()}


@dataclass(frozen=True)
class DrugAssessmentInput:
    drug: str
    causality: str
    action_taken: str


def _new_assessment(
    event: AdverseEvent, assessment: DrugAssessmentInput, field: str
) -> AdverseEventDrugAssessment:
    drug_field = f"{field}.drug" if field else "drug"
    drug = study_drug(event.patient, assessment.drug, field=drug_field)
    if (
        event.pk
        and AdverseEventDrugAssessment.objects.filter(
            adverse_event=event, drug=drug, is_voided=False
        ).exists()
    ):
        raise InvalidInput(f"{drug} is already assessed for this event.", field=drug_field)
    return AdverseEventDrugAssessment(
        adverse_event=event,
        drug=drug,
        causality=assessment.causality,
        action_taken=assessment.action_taken,
    )


@transaction.atomic
def adverse_event_create(
    *,
    actor,
    patient: Patient,
    term: CtcaeTerm,
    verbatim: str,
    onset_date: dt.date,
    grade: int,
    outcome: str,
    resolution_date: dt.date | None = None,
    is_serious: bool = False,
    seriousness_criteria: list[str] | None = None,
    site_aware_at: dt.datetime | None = None,
    visit: Visit | None = None,
    lab_result: LabResult | None = None,
    drug_assessments: list[DrugAssessmentInput] | None = None,
) -> AdverseEvent:
    """Records an adverse event with its per-drug assessments, all or nothing."""
    check_patient_access(actor, patient, Action.ENTER_DATA)
    event = AdverseEvent(
        patient=patient,
        term=term,
        verbatim=(verbatim or "").strip(),
        onset_date=onset_date,
        resolution_date=resolution_date,
        grade=grade,
        outcome=outcome,
        is_serious=is_serious,
        site_aware_at=site_aware_at,
        visit=visit,
        lab_result=lab_result,
        **seriousness_flags(seriousness_criteria),
    )
    if not event.verbatim:
        raise InvalidInput("Describe the event as reported.", field="verbatim")
    check_adverse_event(event)
    assessments = []
    seen: set[str] = set()
    for index, item in enumerate(drug_assessments or ()):
        field = f"drug_assessments.{index}"
        assessment = _new_assessment(event, item, field)
        if assessment.drug in seen:
            raise InvalidInput(f"{assessment.drug} is assessed twice.", field=f"{field}.drug")
        seen.add(assessment.drug)
        assessments.append(assessment)
    save_audited(event, actor=actor, reason="Adverse event reported")
    for assessment in assessments:
        assessment.adverse_event = event
        save_audited(assessment, actor=actor, reason="Causality assessed with the event")
    return event


# What a follow-up or correction may change (everything but the patient).
ADVERSE_EVENT_FIELDS = (
    "visit",
    "term",
    "verbatim",
    "onset_date",
    "resolution_date",
    "grade",
    "outcome",
    "is_serious",
    *SERIOUSNESS_FIELDS,
    "site_aware_at",
    "lab_result",
)


@transaction.atomic
def adverse_event_update(
    *,
    actor,
    event: AdverseEvent,
    changes: dict[str, Any],
    reason: str | None,
    expected_version: int | None,
) -> AdverseEvent:
    """A follow-up or correction of the same event (a grade change is not a new AE): audited,
    with the reason and the version read; the whole event is re-checked."""
    reason = require_reason(reason)
    unknown = set(changes) - set(ADVERSE_EVENT_FIELDS)
    if unknown:
        raise InvalidInput("This field cannot be changed.", field=sorted(unknown)[0])
    check_patient_access(actor, event.patient, Action.ENTER_DATA)
    locked = (
        AdverseEvent.objects.select_for_update(of=("self",))
        .select_related("patient__study", "term")
        .get(pk=event.pk)
    )
    check_version(locked, expected_version)
    if locked.is_voided:
        raise InvalidInput("A voided event cannot be changed.", field=None)
    for name, value in changes.items():
        setattr(locked, name, value)
    if "verbatim" in changes and not (locked.verbatim or "").strip():
        raise InvalidInput("Describe the event as reported.", field="verbatim")
    check_adverse_event(locked)
    locked.version += 1
    return save_audited(locked, actor=actor, reason=reason)


@transaction.atomic
def drug_assessment_create(
    *, actor, event: AdverseEvent, assessment: DrugAssessmentInput
) -> AdverseEventDrugAssessment:
    """Adds the assessment of one more study drug to an existing event."""
    check_patient_access(actor, event.patient, Action.ENTER_DATA)
    locked = (
        AdverseEvent.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=event.pk)
    )
    if locked.is_voided:
        raise InvalidInput("The adverse event is voided.", field="adverse_event")
    row = _new_assessment(locked, assessment, field="")
    return save_audited(row, actor=actor, reason="Causality assessed")


DRUG_ASSESSMENT_CHANGEABLE_FIELDS = frozenset({"causality", "action_taken"})


@transaction.atomic
def drug_assessment_update(
    *,
    actor,
    assessment: AdverseEventDrugAssessment,
    changes: dict[str, Any],
    reason: str | None,
    expected_version: int | None,
) -> AdverseEventDrugAssessment:
    """Corrects the causality or the action taken; a wrong drug is voided and re-entered."""
    unknown = set(changes) - DRUG_ASSESSMENT_CHANGEABLE_FIELDS
    if unknown:
        raise InvalidInput("This field cannot be changed.", field=sorted(unknown)[0])
    check_patient_access(actor, assessment.adverse_event.patient, Action.ENTER_DATA)
    return update_audited(
        assessment, changes=changes, actor=actor, reason=reason, expected_version=expected_version
    )


ADVERSE_EVENT_WRITES = RecordWrites(
    create=adverse_event_create, update=adverse_event_update, record="event"
)
DRUG_ASSESSMENT_WRITES = RecordWrites(
    create=drug_assessment_create, update=drug_assessment_update, record="assessment"
)
