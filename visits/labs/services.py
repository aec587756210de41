"""Writes on lab results and reference ranges: validated, derived values stored, audited.

A result is stored with its standard-unit value, range, indicator, ×ULN and CTCAE suggestion.
The suggestion depends on the patient's baseline of the same test, so every write re-derives
the suggestions of the patient's other results of that test whose baseline changed (a late
baseline entry, a corrected or voided baseline); those re-derivations are audited updates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ecrf.access import Action, can
from ecrf.after_write import deferred_after_writes
from ecrf.audit import check_version, require_reason, save_audited, void_audited
from ecrf.domain import units
from ecrf.exceptions import Conflict, InvalidInput, PermissionRefused
from ecrf.locking import take_turns
from ecrf.record_writes import RecordWrites
from patients.models import Patient
from patients.services import check_patient_access, check_patient_open
from trials.models import Site
from visits.labs import evaluation
from visits.labs.models import DEFAULT_LABORATORY, LabResult, RangeSource, ReferenceRange
from visits.labs.selectors import baseline_among, reference_range_for, results_of_test
from visits.models import Visit
from visits.services import check_visit_of_patient

# A collection time a little ahead of the server clock is clock skew, not the future.
CLOCK_SKEW = dt.timedelta(minutes=5)
REGRADE_REASON = "CTCAE suggestion re-derived: the baseline changed"
# --- Checks shared by the API, the bulk import and the admin ---------------------------------


def check_collected_at(collected_at: dt.datetime, patient: Patient, *, zone=None) -> None:
    """`zone`: the current time zone, when the caller has read it already."""
    if timezone.is_naive(collected_at):
        raise InvalidInput("Give the collection time with its time zone.", field="collected_at")
    if collected_at > timezone.now() + CLOCK_SKEW:
        raise InvalidInput("Must not be in the future.", field="collected_at")
    if timezone.localdate(collected_at, zone) < patient.birth_date:
        raise InvalidInput(
            f"Is before the patient's birth date ({patient.birth_date:%Y-%m-%d}).",
            field="collected_at",
        )


# --- Deriving the stored values ----------------------------------------------------------------


@dataclass(frozen=True)
class ReportedValue:
    test_code: str
    value: Decimal
    unit: str
    lln: Decimal | None
    uln: Decimal | None
    laboratory: str = DEFAULT_LABORATORY


def apply_measurement(
    result: LabResult, reported: ReportedValue, *, find_range=reference_range_for, zone=None
) -> None:
    """Sets the reported and standard-unit values and the range of `result` (not the CTCAE
    suggestion, which needs the patient's series). Raises DomainError/InvalidInput.

    `find_range` looks up the range table (the bulk import passes its preloaded tables);
    `zone` is the current time zone, when the caller has read it already."""
    test_code = evaluation.canonical_test_code(reported.test_code)
    lln, uln, source, range_row = reported.lln, reported.uln, RangeSource.RESULT, None
    if lln is None and uln is None:
        range_row = find_range(
            patient=result.patient,
            test_code=test_code,
            laboratory=reported.laboratory,
            collected_on=timezone.localdate(result.collected_at, zone),
        )
        source = RangeSource.RANGE_TABLE if range_row else RangeSource.NONE
        if range_row is not None:
            lln, uln = _range_in_unit(range_row, test_code, reported.unit)
    values, _ = evaluation.standardize(
        test_code=test_code, value=reported.value, unit=reported.unit, lln=lln, uln=uln
    )
    result.test_code = values.test_code
    result.laboratory = reported.laboratory or DEFAULT_LABORATORY
    result.value, result.unit, result.lln, result.uln = reported.value, values.unit, lln, uln
    result.value_std, result.unit_std = values.value_std, values.unit_std
    result.lln_std, result.uln_std = values.lln_std, values.uln_std
    result.range_source, result.reference_range = source, range_row
    indicator = units.range_indicator(values.value_std, values.lln_std, values.uln_std)
    result.indicator = "" if indicator is None else indicator.value
    result.times_uln = evaluation.times_uln(values)


def _range_in_unit(
    range_row: ReferenceRange, test_code: str, unit: str
) -> tuple[Decimal | None, Decimal | None]:
    """The range-table limits expressed in the unit the result was reported in."""
    units.normalize_unit(test_code, unit)  # an unknown result unit is reported as `unit`

    def convert(limit: Decimal | None) -> Decimal | None:
        return None if limit is None else units.convert(test_code, limit, range_row.unit, unit)

    return convert(range_row.lln), convert(range_row.uln)


def standard_values_of(result: LabResult) -> evaluation.StandardValues:
    return evaluation.StandardValues(
        test_code=result.test_code,
        unit=result.unit,
        unit_std=result.unit_std,
        value_std=result.value_std,
        lln_std=result.lln_std,
        uln_std=result.uln_std,
    )


def apply_suggestion(result: LabResult, baseline: LabResult | None) -> None:
    """Grades `result` against `baseline` (None: the ULN rule) and the protocol's exclusions."""
    patient = result.patient
    protocol = patient.protocol_version
    suggestion = evaluation.suggest_ctcae(
        standard_values_of(result),
        baseline_std=None if baseline is None else baseline.value_std,
        baseline_abnormal=None if baseline is None else _is_abnormal_high(baseline),
        excluded_terms=protocol.ctcae_excluded_terms or (),
        protocol_label=f"protocol {patient.study.registry_id} v{protocol.number}",
    )
    result.baseline_result = baseline
    result.ctcae_term = suggestion.term
    result.ctcae_meddra_code = suggestion.meddra_code
    result.ctcae_grade = suggestion.grade
    result.ctcae_basis = suggestion.basis
    result.ctcae_note = suggestion.note


def _is_abnormal_high(baseline: LabResult) -> bool | None:
    # Without a range on the baseline the domain infers it from the graded result's ULN.
    return None if not baseline.indicator else baseline.indicator == units.RangeIndicator.HIGH


def _baseline_for(result: LabResult, baseline: LabResult | None) -> LabResult | None:
    """A result is graded against an earlier baseline; the baseline itself and anything
    collected before it (screening values) use the ULN rule."""
    if baseline is None or baseline.pk == result.pk:
        return None
    return baseline if baseline.collected_at < result.collected_at else None


def suggestion_fields(result: LabResult) -> tuple:
    return (
        result.baseline_result_id,
        result.ctcae_term,
        result.ctcae_grade,
        result.ctcae_basis,
        result.ctcae_note,
    )


def grade_in_series(patient: Patient, result: LabResult) -> None:
    """Sets the suggestion of `result` (saved or not) as a member of its stored series."""
    series = [r for r in results_of_test(patient, result.test_code) if r.pk != result.pk]
    series.append(result)
    series.sort(key=lambda r: (r.collected_at, r.pk or 0))
    apply_suggestion(result, _baseline_for(result, baseline_among(series, patient.day1)))


def current_baseline(patient: Patient, test_code: str) -> LabResult | None:
    """The baseline of the patient's stored series of one test, as `baseline_among` chooses it,
    in one query however long the series is."""
    results = LabResult.objects.filter(patient=patient, test_code=test_code, is_voided=False)
    if patient.day1 is None:
        return results.order_by("collected_at", "pk").first()
    # baseline_among compares the stored time's date (UTC) with day 1.
    day_after = dt.datetime.combine(patient.day1 + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    return results.filter(collected_at__lt=day_after).order_by("-collected_at", "-pk").first()


def may_become_baseline(result: LabResult, baseline: LabResult | None, day1) -> bool:
    """Whether storing `result` could change its series' baseline (and so others' grades)."""
    if day1 is not None:
        return result.collected_at.date() <= day1
    return baseline is None or result.collected_at <= baseline.collected_at


def regrade_series(*, patient: Patient, test_code: str, actor, skip_pk: int | None = None) -> int:
    """Re-derives the CTCAE suggestions of the patient's results of one test whose baseline or
    grading changed; saves each changed one as an audited update. Returns how many changed."""
    series = results_of_test(patient, test_code)
    baseline = baseline_among(series, patient.day1)
    changed = 0
    with deferred_after_writes(actor=actor, reason=REGRADE_REASON):
        for result in series:
            if result.pk == skip_pk:
                continue
            result.patient = patient  # already locked and loaded: no query per row
            before = suggestion_fields(result)
            apply_suggestion(result, _baseline_for(result, baseline))
            if suggestion_fields(result) != before:
                result.version += 1
                save_audited(result, actor=actor, reason=REGRADE_REASON)
                changed += 1
    return changed


@transaction.atomic
def lab_suggestions_refresh(*, patient: Patient, actor) -> int:
    """Re-derives every suggestion of a patient, e.g. after day 1 or the protocol version was
    set (the baseline is the latest value on or before day 1). Returns how many changed."""
    locked = _locked_patient(patient.pk)
    codes = (
        LabResult.objects.filter(patient=locked, is_voided=False)
        .values_list("test_code", flat=True)
        .distinct()
    )
    return sum(
        regrade_series(patient=locked, test_code=code, actor=actor) for code in sorted(set(codes))
    )


def lab_suggestions_after_allocation(*, actor, patient: Patient, **_allocation) -> None:
    """The allocation step (`patients.hooks`, registered in `LabsConfig.ready`): grade
    suggestions grade against the baseline, which day 1 has just defined."""
    lab_suggestions_refresh(patient=patient, actor=actor)


def _locked_patient(patient_pk: int) -> Patient:
    # Writes on one patient's lab series queue here: the baseline and the accession check
    # are read and acted on under this lock (no check-then-act race).
    # Only the patient's own row is locked; protocol version, study and site are read along.
    return (
        Patient.objects.select_for_update(of=("self",))
        .select_related("protocol_version", "study", "site")
        .get(pk=patient_pk)
    )


# --- Services ----------------------------------------------------------------------------------


def prepare_lab_result(
    *,
    patient: Patient,
    collected_at: dt.datetime,
    reported: ReportedValue,
    visit: Visit | None = None,
    source_accession: str = "",
    find_range=reference_range_for,
) -> LabResult:
    """An unsaved, fully validated result with its derived values (no suggestion yet).

    Shared by the create service, the bulk import and the admin form, so all refuse the same
    input."""
    check_patient_open(patient)
    check_visit_of_patient(visit, patient)
    # The current time zone is a context variable, slow to read row after row in an import:
    # read once for the three uses.
    zone = timezone.get_current_timezone()
    check_collected_at(collected_at, patient, zone=zone)
    result = LabResult(
        patient=patient,
        visit=visit,
        collected_at=timezone.localtime(collected_at, zone),
        source_accession=(source_accession or "").strip(),
    )
    apply_measurement(result, reported, find_range=find_range, zone=zone)
    return result


@transaction.atomic
def lab_result_receive(
    *,
    actor,
    patient: Patient,
    collected_at: dt.datetime,
    test_code: str,
    value: Decimal,
    unit: str,
    lln: Decimal | None = None,
    uln: Decimal | None = None,
    laboratory: str = DEFAULT_LABORATORY,
    visit: Visit | None = None,
    source_accession: str = "",
    reason: str = "Lab result entered",
) -> tuple[LabResult, bool]:
    """Stores one result → (result, True); or, when its accession (per patient and test) is
    already stored with the same content, answers that stored result → (stored, False) and
    stores nothing: a lab interface resending a message must not double the result. The same
    accession with other content (or voided) is a 409 naming the stored result: a change to a
    stored result is a correction, with a reason."""
    check_patient_access(actor, patient, Action.ENTER_DATA)
    patient = _locked_patient(patient.pk)
    result = prepare_lab_result(
        patient=patient,
        collected_at=collected_at,
        reported=ReportedValue(test_code, value, unit, lln, uln, laboratory or DEFAULT_LABORATORY),
        visit=visit,
        source_accession=source_accession,
    )
    stored = _stored_with_accession(result)
    if stored is not None:
        if stored.is_voided or not same_measurement(stored, result):
            message = (
                f"Accession {result.source_accession} is already stored for "
                f"{result.test_code} of this patient as result {stored.pk}"
                + (" (voided)" if stored.is_voided else " with other content")
                + f"; correct result {stored.pk} with a reason instead."
            )
            raise Conflict(
                message,
                errors=[{"field": "accession", "message": message, "code": "duplicate_accession"}],
            )
        return stored, False
    baseline = current_baseline(patient, result.test_code)
    if not may_become_baseline(result, baseline, patient.day1):
        # The usual case (a result after day 1): the series' baseline stays, nothing else is
        # re-derived, and the cost does not grow with the length of the patient's history.
        apply_suggestion(result, _baseline_for(result, baseline))
        return save_audited(result, actor=actor, reason=reason), True
    grade_in_series(patient, result)
    save_audited(result, actor=actor, reason=reason)
    # The new result may be the baseline of results entered before it.
    regrade_series(patient=patient, test_code=result.test_code, actor=actor, skip_pk=result.pk)
    return result, True


@transaction.atomic
def lab_result_create(*, actor, patient: Patient, **values) -> LabResult:
    """Stores one new result (`lab_result_receive`'s arguments); an accession already stored for
    the patient's test is a 409 naming the stored result, even with the same content (the admin
    and services enter new results; the API answers a resent one with the stored result)."""
    result, created = lab_result_receive(actor=actor, patient=patient, **values)
    if not created:
        message = (
            f"Accession {result.source_accession} is already stored for {result.test_code} "
            f"of this patient as result {result.pk}."
        )
        raise Conflict(
            message,
            errors=[{"field": "accession", "message": message, "code": "duplicate_accession"}],
        )
    return result


def _stored_with_accession(result: LabResult) -> LabResult | None:
    if not result.source_accession:
        return None
    return LabResult.objects.filter(
        patient=result.patient,
        test_code=result.test_code,
        source_accession=result.source_accession,
    ).first()


def same_measurement(stored: LabResult, received: LabResult) -> bool:
    """The same sample and value as reported (collection time, test, value, unit, range,
    laboratory, visit): a resent result, not a correction."""
    return all(
        getattr(stored, name) == getattr(received, name)
        for name in (
            "collected_at",
            "test_code",
            "value",
            "unit",
            "lln",
            "uln",
            "laboratory",
            "visit_id",
        )
    )


CORRECTABLE_FIELDS = frozenset(
    {"collected_at", "value", "unit", "lln", "uln", "laboratory", "visit", "test_code"}
)


@transaction.atomic
def lab_result_correct(
    *,
    actor,
    result: LabResult,
    changes: dict[str, Any],
    reason: str | None,
    expected_version: int | None,
) -> LabResult:
    """Corrects a stored result (reason and the version read required) and re-derives it."""
    reason = require_reason(reason)
    unknown = set(changes) - CORRECTABLE_FIELDS
    if unknown:
        raise InvalidInput("This field cannot be corrected.", field=sorted(unknown)[0])
    check_patient_access(actor, result.patient, Action.ENTER_DATA)
    patient = _locked_patient(result.patient_id)
    locked = LabResult.objects.select_for_update().get(pk=result.pk)
    check_version(locked, expected_version)
    if locked.is_voided:
        raise InvalidInput("A voided result cannot be corrected.", field=None)
    previous_code = locked.test_code
    locked.patient = patient
    merged = {name: getattr(locked, name) for name in CORRECTABLE_FIELDS} | changes
    if "lln" not in changes and "uln" not in changes and locked.range_source != RangeSource.RESULT:
        merged["lln"] = merged["uln"] = None  # a range-table range is looked up again
    check_visit_of_patient(merged["visit"], patient)
    check_collected_at(merged["collected_at"], patient)
    locked.visit = merged["visit"]
    locked.collected_at = timezone.localtime(merged["collected_at"])
    apply_measurement(
        locked,
        ReportedValue(
            merged["test_code"],
            merged["value"],
            merged["unit"],
            merged["lln"],
            merged["uln"],
            merged["laboratory"] or DEFAULT_LABORATORY,
        ),
    )
    grade_in_series(patient, locked)
    locked.version += 1
    save_audited(locked, actor=actor, reason=reason)
    # The corrected value may be (or stop being) the baseline of the others.
    for code in {previous_code, locked.test_code}:
        regrade_series(patient=patient, test_code=code, actor=actor, skip_pk=locked.pk)
    return locked


@transaction.atomic
def lab_result_void(
    *, actor, result: LabResult, reason: str | None, expected_version: int | None
) -> LabResult:
    check_patient_access(actor, result.patient, Action.VOID)
    patient = _locked_patient(result.patient_id)
    voided = void_audited(result, actor=actor, reason=reason, expected_version=expected_version)
    regrade_series(patient=patient, test_code=voided.test_code, actor=actor)
    return voided


# --- Reference ranges ---------------------------------------------------------------------------

# What a range says, besides the site it belongs to.
REFERENCE_RANGE_FIELDS = (
    "laboratory",
    "test_code",
    "sex",
    "age_min_years",
    "age_max_years",
    "unit",
    "lln",
    "uln",
    "effective_from",
    "effective_to",
)


def prepare_reference_range(values: dict[str, Any], instance: ReferenceRange | None = None):
    """An unsaved, validated range (new or changed). Raises InvalidInput/DomainError."""
    range_row = instance or ReferenceRange()
    for name, value in values.items():
        setattr(range_row, name, value)
    range_row.test_code = evaluation.canonical_test_code(range_row.test_code)
    if range_row.sex not in ("", "F", "M"):
        raise InvalidInput("Use F, M, or leave empty for both sexes.", field="sex")
    if range_row.lln is None and range_row.uln is None:
        raise InvalidInput("Give a lower limit, an upper limit or both.", field="lln")
    range_row.unit, _, _ = evaluation.standard_limits(
        test_code=range_row.test_code, unit=range_row.unit, lln=range_row.lln, uln=range_row.uln
    )
    if range_row.age_min_years > range_row.age_max_years:
        raise InvalidInput("The age band's minimum is above its maximum.", field="age_min_years")
    if range_row.effective_to is not None and range_row.effective_to < range_row.effective_from:
        raise InvalidInput("Ends before it starts.", field="effective_to")
    return range_row


def check_no_overlap(range_row: ReferenceRange) -> None:
    """Two ranges of one laboratory must never both apply to the same patient on one day."""
    others = ReferenceRange.objects.filter(
        site_id=range_row.site_id,
        laboratory=range_row.laboratory,
        test_code=range_row.test_code,
        sex=range_row.sex,
        age_min_years__lte=range_row.age_max_years,
        age_max_years__gte=range_row.age_min_years,
    ).exclude(pk=range_row.pk)
    far_future = dt.date.max
    for other in others:
        starts_before_other_ends = range_row.effective_from <= (other.effective_to or far_future)
        other_starts_before_end = other.effective_from <= (range_row.effective_to or far_future)
        if starts_before_other_ends and other_starts_before_end:
            raise Conflict(
                f"Overlaps the range effective from {other.effective_from:%Y-%m-%d} for the "
                "same laboratory, test, sex and ages; end that one first.",
                field="effective_from",
            )


def check_range_site_access(actor, range_row: ReferenceRange) -> None:
    site = range_row.site
    if not can(actor, Action.ENTER_DATA, study_id=site.study_id, site_id=site.pk):
        raise PermissionRefused("Your role does not allow changing this site's ranges.")


@transaction.atomic
def reference_range_create(
    *,
    actor,
    site: Site,
    test_code: str,
    unit: str,
    effective_from: dt.date,
    laboratory: str = DEFAULT_LABORATORY,
    sex: str = "",
    age_min_years: int = 0,
    age_max_years: int = 150,
    lln: Decimal | None = None,
    uln: Decimal | None = None,
    effective_to: dt.date | None = None,
) -> ReferenceRange:
    values = {
        "site": site,
        "laboratory": laboratory,
        "test_code": test_code,
        "sex": sex or "",
        "age_min_years": age_min_years,
        "age_max_years": age_max_years,
        "unit": unit,
        "lln": lln,
        "uln": uln,
        "effective_from": effective_from,
        "effective_to": effective_to,
    }
    range_row = prepare_reference_range(values)
    check_range_site_access(actor, range_row)
    # Concurrent entries of one site's table take turns: they cannot both pass the overlap check.
    take_turns("reference-ranges", range_row.site_id)
    check_no_overlap(range_row)
    return save_audited(range_row, actor=actor, reason="Reference range entered")


@transaction.atomic
def reference_range_update(
    *,
    actor,
    range_row: ReferenceRange,
    changes: dict[str, Any],
    reason: str | None,
    expected_version: int | None,
) -> ReferenceRange:
    """Changes a range (e.g. ends it). Results already stored keep the limits they were given."""
    reason = require_reason(reason)
    check_range_site_access(actor, range_row)
    take_turns("reference-ranges", range_row.site_id)
    locked = ReferenceRange.objects.select_for_update().get(pk=range_row.pk)
    check_version(locked, expected_version)
    if "site" in changes and changes["site"].pk != locked.site_id:
        raise InvalidInput("A range cannot move to another site.", field="site")
    prepare_reference_range(changes, locked)
    check_no_overlap(locked)
    locked.version += 1
    return save_audited(locked, actor=actor, reason=reason)


LAB_RESULT_WRITES = RecordWrites(
    create=lab_result_create, update=lab_result_correct, void=lab_result_void, record="result"
)
REFERENCE_RANGE_WRITES = RecordWrites(
    create=reference_range_create, update=reference_range_update, record="range_row"
)
