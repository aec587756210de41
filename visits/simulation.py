"""A simulated cohort for demos and benchmarks, written through the product's own services.

`simulate_cohort(study, patients=N, seed=S)` screens N patients (site by site in turn), records
their screening panel, ECOG and consent, evaluates eligibility (about one in ten fails an
exclusion criterion), randomizes or enrols the others on back-entered dates, and records their
course: visits (a few missed), platelets, haemoglobin and white cells on per-arm trajectories
(the experimental arm responds more often), bleeding at every visit, rescue therapy for
non-responders who fall low, and an adverse event for some. On an arm with a tacrolimus
regimen: a dose record from day 1, a trough at each visit of the first twelve weeks (exposure per
mg/day drawn per patient) and the investigator's decision on the service's proposal (accepted:
the dose changes when the trough is out of target). Everything depends only on the seed and
`start`, never on the clock: the same seed gives the same cohort.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model

from ecrf.exceptions import ServiceError
from patients.eligibility import eligibility_evaluate
from patients.models import Patient
from patients.randomization import patient_enrol, patient_randomize
from patients.services import consent_record, patient_create
from trials.models import Study
from trials.randomization.models import AllocationList
from trials.randomization.services import allocation_list_generate
from visits.dosing.arm import regimen_for_drug
from visits.dosing.models import TitrationChoice
from visits.dosing.services.records import dose_record_create
from visits.dosing.services.titration import titration_decision_create
from visits.dosing.trough_titration import trough_proposal
from visits.findings.services.bleeding import bleeding_assessment_create
from visits.findings.services.ecog import ecog_assessment_create
from visits.findings.services.rescue import rescue_therapy_create
from visits.labs.bulk import json_rows, lab_results_import
from visits.models import Visit
from visits.safety.models import CtcaeTerm
from visits.safety.services import adverse_event_create
from visits.services import visit_record

DEFAULT_START = dt.date(2024, 1, 8)
SIMULATOR = "cohort-simulator"
# (test, unit, lln, uln, screening mean, spread)
SCREENING_PANEL = [
    ("WBC", "10^9/L", "3.5", "9.5", 5.5, 1.2),
    ("HGB", "g/L", "115", "150", 122, 8),
    ("ALT", "U/L", "7", "40", 24, 6),
    ("AST", "U/L", "13", "35", 22, 5),
    ("CREAT", "umol/L", "45", "84", 66, 8),
    ("BILI", "umol/L", "0", "21", 10, 3),
]
# Tacrolimus: the starting dose (mg twice a day), the weeks its trough is titrated, and how many
# ng/mL of trough one mg/day gives (drawn per patient: exposure varies several-fold).
TACROLIMUS_START_MG = Decimal("1.0")
TITRATION_DAYS = 84
TROUGH_PER_MG = (1.0, 2.6)
# Chance of a platelet response by arm position (experimental first, as protocols list them).
RESPONSE_CHANCE = (0.65, 0.4, 0.4)


@dataclass
class CohortSummary:
    screened: int = 0
    screen_failures: int = 0
    allocated: int = 0
    by_arm: dict[str, int] = field(default_factory=dict)
    visits_completed: int = 0
    visits_missed: int = 0
    lab_results: int = 0
    bleeding_assessments: int = 0
    rescue_therapies: int = 0
    adverse_events: int = 0
    dose_records: int = 0
    troughs: int = 0
    titration_decisions: int = 0
    dose_adjustments: int = 0


def simulator():
    user, _ = get_user_model().objects.get_or_create(
        username=SIMULATOR, defaults={"is_superuser": True, "is_staff": False}
    )
    return user


def _stamp(day: dt.date, hour: int = 8) -> str:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC).isoformat()


class _Simulation:
    def __init__(self, study: Study, seed: int, start: dt.date, today: dt.date) -> None:
        self.study = study
        self.random = random.Random(seed)
        # Its own stream, so adding dosing left every other draw (and earlier cohorts) as it was.
        self.dosing_random = random.Random(f"dosing-{seed}")
        self.start = start
        self.today = today
        self.actor = simulator()
        self.summary = CohortSummary()
        self.sites = list(study.sites.filter(is_active=True).order_by("code"))
        self.arms = {arm.pk: index for index, arm in enumerate(study.arms.order_by("pk"))}
        self.diagnoses = study.current_protocol().diagnoses
        self.event_term = CtcaeTerm.objects.filter(
            ctcae_version=study.ctcae_version, term="Headache"
        ).first()

    def run(self, count: int, seed: int) -> CohortSummary:
        if (
            self.study.is_randomized
            and not AllocationList.objects.filter(study=self.study, active=True).exists()
        ):
            allocation_list_generate(
                actor=self.actor, study=self.study, seed=seed, slots_per_stratum=count + 20
            )
        for number in range(count):
            self.patient(number)
        return self.summary

    def patient(self, number: int) -> None:
        rng = self.random
        screened = self.start + dt.timedelta(days=2 * number)
        # A study enrolling several diagnoses gets a mix; the others draw nothing (same cohorts).
        declared = [d["code"] for d in self.diagnoses]
        diagnosis = rng.choice(declared) if declared else ""
        patient = patient_create(
            actor=self.actor,
            study=self.study,
            site=self.sites[number % len(self.sites)],
            sex=rng.choice("FFM"),
            birth_date=dt.date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28)),
            height_cm=Decimal(rng.randint(150, 185)),
            weight_kg=Decimal(rng.randint(48, 95)),
            screened_on=screened,
            diagnosis=diagnosis,
        )
        self.summary.screened += 1
        baseline_platelets = rng.randint(8, 28)
        rows = [self._row(patient, "PLAT", "10^9/L", baseline_platelets, screened, "S")]
        for code, unit, lln, uln, mean, spread in SCREENING_PANEL:
            value = round(rng.gauss(mean, spread), 1)
            rows.append(self._row(patient, code, unit, value, screened, "S", lln=lln, uln=uln))
        self._import(rows)
        ecog_assessment_create(
            actor=self.actor, patient=patient, assessed_on=screened, score=rng.choice((0, 1, 1))
        )
        consent_record(
            actor=self.actor, patient=patient, consented_at=screened, consent_version="1.0"
        )
        criteria = self.study.current_protocol().eligibility_criteria.filter(rule__isnull=True)
        answers = {c.code: c.kind == "inclusion" for c in criteria}
        exclusions = sorted(c.code for c in criteria if c.kind == "exclusion")
        if exclusions and rng.random() < 0.1:
            answers[exclusions[0]] = True  # a screen failure
        assessment = eligibility_evaluate(
            actor=self.actor, patient=patient, answers=answers, evaluated_on=screened
        )
        if not assessment.eligible:
            self.summary.screen_failures += 1
            return
        day1 = screened + dt.timedelta(days=2)
        if self.study.is_randomized:
            patient_randomize(actor=self.actor, patient=patient, randomized_at=day1)
        else:
            patient_enrol(actor=self.actor, patient=patient, enrolled_at=day1)
        patient = Patient.objects.select_related("arm").get(pk=patient.pk)
        self.summary.allocated += 1
        self.summary.by_arm[patient.arm.code] = self.summary.by_arm.get(patient.arm.code, 0) + 1
        self.course(patient, baseline_platelets)

    def course(self, patient: Patient, baseline_platelets: int) -> None:
        rng = self.random
        chance = RESPONSE_CHANCE[min(self.arms[patient.arm_id], len(RESPONSE_CHANCE) - 1)]
        responder = rng.random() < chance
        plateau = rng.randint(60, 180) if responder else rng.randint(10, 35)
        pace = rng.uniform(7, 28)  # days to reach two thirds of the plateau
        rows, rescued = [], False
        tacrolimus = self._tacrolimus_start(patient)
        visits = Visit.objects.filter(patient=patient, definition__isnull=False).order_by(
            "target_date"
        )
        for visit in visits:
            if visit.target_date > self.today:
                break
            if visit.code != "D1" and rng.random() < 0.05:
                visit_record(actor=self.actor, visit=visit, status="missed")
                self.summary.visits_missed += 1
                continue
            day = visit.target_date
            visit_record(actor=self.actor, visit=visit, status="completed", actual_date=day)
            self.summary.visits_completed += 1
            elapsed = (day - patient.day1).days
            level = baseline_platelets + (plateau - baseline_platelets) * (
                1 - math.exp(-elapsed / pace)
            )
            platelets = max(2, round(level * rng.uniform(0.85, 1.15)))
            tag = visit.code
            rows.append(self._row(patient, "PLAT", "10^9/L", platelets, day, tag, visit=tag))
            rows.append(
                self._row(patient, "HGB", "g/L", round(rng.gauss(124, 8)), day, tag, visit=tag)
            )
            rows.append(
                self._row(
                    patient, "WBC", "10^9/L", round(rng.gauss(6, 1.3), 1), day, tag, visit=tag
                )
            )
            grade = 0 if platelets >= 30 else rng.choice((0, 1, 1, 2))
            bleeding_assessment_create(
                actor=self.actor, patient=patient, assessed_at=day, who_grade=grade, visit=visit
            )
            self.summary.bleeding_assessments += 1
            if tacrolimus is not None and 0 < elapsed <= TITRATION_DAYS:
                tacrolimus = self._titrate(patient, tacrolimus, day, tag)
            if not responder and not rescued and elapsed >= 14 and platelets < 20:
                rescue_therapy_create(
                    actor=self.actor,
                    patient=patient,
                    started_at=day,
                    stopped_at=day + dt.timedelta(days=4),
                    therapy="IVIG 1 g/kg",
                    itp_directed=True,
                    indication="Platelets below 20 with bleeding risk",
                )
                rescued = True
                self.summary.rescue_therapies += 1
        self._import(rows)
        self.adverse_event(patient)

    def _tacrolimus_start(self, patient: Patient) -> dict | None:
        """On an arm with a tacrolimus regimen: the first dose record on day 1 (through the
        dosing service) and the patient's exposure (trough per mg/day)."""
        try:
            regimen = regimen_for_drug(patient, "tacrolimus")
        except ServiceError:
            return None
        dose_record_create(
            actor=self.actor,
            patient=patient,
            drug="tacrolimus",
            start_date=patient.day1,
            dose_mg=TACROLIMUS_START_MG,
            frequency="bid",
        )
        self.summary.dose_records += 1
        return {
            "daily_mg": 2 * TACROLIMUS_START_MG,
            "exposure": self.dosing_random.uniform(*TROUGH_PER_MG),
            # A fixed-dose regimen (no trough target, e.g. NCT05694130's 1-2 mg twice daily):
            # troughs are drawn, but there is no trough-guided proposal to decide on.
            "titrated": regimen.target_trough_low is not None
            and regimen.target_trough_high is not None,
        }

    def _titrate(self, patient: Patient, tacrolimus: dict, day: dt.date, tag: str) -> dict:
        """A trough at the visit (imported like any lab result), then the investigator accepts
        the service's proposal: the dose changes when the trough is out of its target."""
        trough = round(
            tacrolimus["exposure"]
            * float(tacrolimus["daily_mg"])
            * self.dosing_random.uniform(0.8, 1.2),
            1,
        )
        self._import([self._row(patient, "TACRO", "ng/mL", max(trough, 0.5), day, tag, visit=tag)])
        self.summary.troughs += 1
        if not tacrolimus["titrated"]:
            return tacrolimus
        proposal = trough_proposal(patient, "tacrolimus")
        if proposal.result.proposed_daily_mg is None or proposal.result.proposed_daily_mg <= 0:
            return tacrolimus  # nothing the simulated investigator would accept
        decision = titration_decision_create(
            actor=self.actor,
            patient=patient,
            decision=TitrationChoice.ACCEPT,
            trough_result_id=proposal.trough.pk,
            dose_record_id=proposal.current_record.pk,
            effective_date=day,
        )
        self.summary.titration_decisions += 1
        if decision.adjustment_id is not None:
            self.summary.dose_adjustments += 1
        return tacrolimus | {"daily_mg": decision.decided_daily_mg}

    def adverse_event(self, patient: Patient) -> None:
        if self.event_term is None or self.random.random() >= 0.3:
            return
        onset = patient.day1 + dt.timedelta(days=self.random.randint(3, 60))
        if onset > self.today:
            return
        adverse_event_create(
            actor=self.actor,
            patient=patient,
            term=self.event_term,
            verbatim="Headache",
            onset_date=onset,
            resolution_date=onset + dt.timedelta(days=2),
            grade=1,
            outcome="recovered",
        )
        self.summary.adverse_events += 1

    def _row(self, patient, code, unit, value, day, tag, *, lln=None, uln=None, visit=None):
        row = {
            "patient": patient.subject_id,
            "test_code": code,
            "value": str(value),
            "unit": unit,
            "collected_at": _stamp(day),
            "accession": f"SIM-{patient.subject_id}-{tag}-{code}",
        }
        if lln is not None:
            row |= {"lln": lln, "uln": uln}
        if visit is not None:
            row["visit"] = visit
        return row

    def _import(self, rows: list[dict]) -> None:
        if not rows:
            return
        report = lab_results_import(
            actor=self.actor, rows=json_rows(rows), source="simulate_cohort", study=self.study
        )
        self.summary.lab_results += report.created


def simulate_cohort(
    study: Study,
    *,
    patients: int,
    seed: int,
    start: dt.date = DEFAULT_START,
    today: dt.date | None = None,
) -> CohortSummary:
    """Screens `patients` patients from `start` on (one every two days); the course of each is
    recorded up to `today` (default: `start` + 400 days, so the cohort does not depend on the
    clock). Deterministic for a seed."""
    today = today or start + dt.timedelta(days=400)
    return _Simulation(study, seed, start, today).run(patients, seed)
