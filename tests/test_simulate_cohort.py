"""`simulate_cohort` builds a cohort through the services, the same for the same seed; and
`recompute_assessments` reassesses a study's allocated patients (issue 12)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from patients.models import Patient
from visits.dosing.models import DoseAdjustment, DoseRecord, TitrationDecision
from visits.endpoints.models import PatientAssessment
from visits.findings.models import BleedingAssessment, RescueTherapy
from visits.labs.models import LabResult
from visits.models import Visit
from visits.safety.models import AdverseEvent
from visits.simulation import simulate_cohort

pytestmark = pytest.mark.django_db


def test_a_seeded_cohort_has_exact_counts_and_complete_histories(study):
    summary = simulate_cohort(study, patients=3, seed=5)
    assert (summary.screened, summary.screen_failures, summary.allocated) == (3, 0, 3)
    assert summary.by_arm == {"DAN": 2, "TAC_DAN": 1}
    patients = Patient.objects.filter(study=study)
    assert sorted(p.status for p in patients) == ["randomized"] * 3
    # 12 protocol visits each, all in the past; 7 screening tests + 3 tests per visit, and a
    # tacrolimus trough at the 8 visits of the TAC_DAN patient's first twelve weeks.
    assert Visit.objects.filter(patient__in=patients, status="completed").count() == 36
    assert LabResult.objects.filter(patient__in=patients).count() == 21 + 36 * 3 + 8 == 137
    assert BleedingAssessment.objects.filter(patient__in=patients).count() == 36
    assert RescueTherapy.objects.filter(patient__in=patients).count() == 2
    assert AdverseEvent.objects.filter(patient__in=patients).count() == 1
    assert PatientAssessment.objects.filter(patient__in=patients).count() == 3
    # Every lab result has its history row, with the import's user and reason.
    history = LabResult.history.filter(patient_id__in=[p.pk for p in patients])
    assert history.filter(history_type="+").count() == 137
    assert set(history.values_list("history_user__username", flat=True)) == {"cohort-simulator"}


def test_tacrolimus_is_dosed_and_titrated_on_its_troughs_through_the_services(study):
    summary = simulate_cohort(study, patients=3, seed=5)
    assert (summary.dose_records, summary.troughs) == (1, 8)
    assert (summary.titration_decisions, summary.dose_adjustments) == (8, 1)
    [patient] = Patient.objects.filter(study=study, arm__code="TAC_DAN")
    troughs = LabResult.objects.filter(patient=patient, test_code="TACRO").order_by("collected_at")
    assert [str(t.value_std) for t in troughs] == [
        "4.7000", "4.5000", "4.0000", "5.5000", "4.1000", "4.1000", "4.2000", "4.3000"
    ]  # fmt: skip
    # 1 mg twice a day from day 1; the 5.5 ng/mL trough (target 3-5) lowers it to 1.5 mg/day.
    doses = DoseRecord.objects.filter(patient=patient).order_by("start_date")
    assert [(str(d.start_date), str(d.daily_mg)) for d in doses] == [
        ("2024-01-14", "2.000"),
        ("2024-02-11", "1.500"),
    ]
    decisions = TitrationDecision.objects.filter(patient=patient).order_by("trough_collected_at")
    assert [(d.action, str(d.decided_daily_mg)) for d in decisions] == [
        *[("maintain", "2.000")] * 3,
        ("decrease", "1.500"),
        *[("maintain", "1.500")] * 4,
    ]
    [adjustment] = DoseAdjustment.objects.filter(patient=patient)
    assert adjustment.trough_result == troughs[3]
    assert {d.decided_by.username for d in decisions} == {"cohort-simulator"}


def test_a_fixed_dose_tacrolimus_arm_draws_troughs_but_proposes_nothing():
    """NCT05694130's tacrolimus is 1-2 mg twice daily with no trough target: the simulated
    cohort gets its dose record and troughs, and no trough-guided decision (the proposal service
    refuses one: there is no target to titrate to)."""
    from trials.models import Study

    sjogren = Study.objects.get(registry_id="NCT05694130")
    summary = simulate_cohort(sjogren, patients=2, seed=2)
    assert summary.by_arm == {"PRED": 1, "PRED_TAC": 1}
    patients = Patient.objects.filter(study=sjogren, arm__code="PRED_TAC")
    troughs = LabResult.objects.filter(patient__in=patients, test_code="TACRO")
    # One patient on tacrolimus: 1 mg twice a day from day 1 and a trough at each of the six
    # visits of the first twelve weeks.
    assert (summary.dose_records, summary.troughs, troughs.count()) == (1, 6, 6)
    assert (summary.titration_decisions, summary.dose_adjustments) == (0, 0)
    assert not TitrationDecision.objects.filter(patient__in=patients).exists()
    doses = DoseRecord.objects.filter(patient__in=patients, drug="tacrolimus")
    assert [str(d.daily_mg) for d in doses] == ["2.000"]


def _course_of_a_run(study, seed: int) -> list[tuple]:
    """The cohort's lab values of one run, which is then rolled back."""
    with transaction.atomic():
        simulate_cohort(study, patients=2, seed=seed)
        values = list(
            LabResult.objects.filter(patient__study=study)
            .order_by("patient__subject_id", "collected_at", "test_code")
            .values_list("patient__subject_id", "test_code", "collected_at", "value")
        )
        transaction.set_rollback(True)
    return values


def test_the_same_seed_gives_the_same_course(study):
    first, again, other = (_course_of_a_run(study, seed) for seed in (11, 11, 12))
    # seed 11: one of the 24 visits is missed; 7 troughs of the TAC_DAN patient's first 12 weeks.
    assert len(first) == 2 * 7 + 23 * 3 + 7
    assert first == again
    assert [v[3] for v in first] != [v[3] for v in other]


def test_recompute_assessments_reports_its_progress(study):
    simulate_cohort(study, patients=2, seed=3)
    out, err = StringIO(), StringIO()
    call_command("recompute_assessments", "NCT05471050", stdout=out, stderr=err)
    assert out.getvalue().startswith("NCT05471050: 2 patients reassessed, 0 changed")
    assert "2/2 patients" in err.getvalue()
    with pytest.raises(CommandError, match="Unknown study"):
        call_command("recompute_assessments", "NCT00000000")


def test_the_demo_cohort_goes_only_to_studies_without_patients(study):
    """`simulate_cohort --all-empty` (the quick start's step): one cohort per study that has no
    patient yet; a study with patients is left alone, and running it again adds nothing."""
    simulate_cohort(study, patients=1, seed=3)
    out = StringIO()
    call_command("simulate_cohort", all_empty=True, patients=1, seed=4, stdout=out)
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == [
        "NCT03304288", "NCT03918265", "NCT05694130"
    ]  # fmt: skip
    assert Patient.objects.filter(study=study).count() == 1
    assert Patient.objects.count() == 4
    again = StringIO()
    call_command("simulate_cohort", all_empty=True, patients=1, stdout=again)
    assert (again.getvalue(), Patient.objects.count()) == ("", 4)
    with pytest.raises(CommandError, match="not both"):
        call_command("simulate_cohort", "NCT05471050", all_empty=True)
