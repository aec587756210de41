"""SDTM-shaped datasets (CSV): DM, DS, LB, AE, EX, VS, RS (and MH, the diagnosis, for a study
whose protocol declares diagnoses), with the standard variable names.

Each dataset merges the patients stream (as of the cut) with the streams of the records it maps,
subject by subject, so `--SEQ` and study days (`--DY`, from RFSTDTC = day 1) are computed while
streaming. Voided patients and voided records are left out (SDTM holds valid data only; the CSV
export keeps them, flagged). The mapping is documented in the README ("Exports").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal

from django.db.models import F

from ecrf.domain.dates import age_in_years
from ecrf.domain.units import LAB_TESTS
from trials.models import Arm, Site
from trials.selectors import diagnosis_names
from visits.exports.streams import by_subject, rows_of
from visits.exports.tables import TABLES_BY_NAME, study_rows, text

CAUSALITY_ORDER = ("unrelated", "unlikely", "possible", "probable", "definite")
AEREL = {
    "unrelated": "NOT RELATED",
    "unlikely": "UNLIKELY RELATED",
    "possible": "POSSIBLY RELATED",
    "probable": "PROBABLY RELATED",
    "definite": "RELATED",
}
AEOUT = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "recovered_with_sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}
# Vital signs: model field → (VSTESTCD, VSTEST, unit).
VS_TESTS = (
    ("systolic_mmhg", "SYSBP", "Systolic Blood Pressure", "mmHg"),
    ("diastolic_mmhg", "DIABP", "Diastolic Blood Pressure", "mmHg"),
    ("heart_rate_bpm", "PULSE", "Pulse Rate", "beats/min"),
    ("temperature_c", "TEMP", "Temperature", "C"),
    ("weight_kg", "WEIGHT", "Weight", "kg"),
    ("height_cm", "HEIGHT", "Height", "cm"),
)

COMMON = ["STUDYID", "DOMAIN", "USUBJID"]
VARIABLES = {
    "DM": [
        *COMMON,
        "SUBJID",
        "RFSTDTC",
        "SITEID",
        "BRTHDTC",
        "AGE",
        "AGEU",
        "SEX",
        "ARMCD",
        "ARM",
        "ACTARMCD",
        "ACTARM",
        "COUNTRY",
    ],
    "DS": [*COMMON, "DSSEQ", "DSTERM", "DSDECOD", "DSCAT", "DSSTDTC", "DSSTDY"],
    "LB": [
        *COMMON,
        "LBSEQ",
        "LBREFID",
        "LBTESTCD",
        "LBTEST",
        "LBORRES",
        "LBORRESU",
        "LBORNRLO",
        "LBORNRHI",
        "LBSTRESC",
        "LBSTRESN",
        "LBSTRESU",
        "LBSTNRLO",
        "LBSTNRHI",
        "LBNRIND",
        "LBTOXGR",
        "VISIT",
        "LBDTC",
        "LBDY",
    ],
    "AE": [
        *COMMON,
        "AESEQ",
        "AETERM",
        "AEDECOD",
        "AEPTCD",
        "AEBODSYS",
        "AETOXGR",
        "AESER",
        "AESDTH",
        "AESLIFE",
        "AESHOSP",
        "AESDISAB",
        "AESCONG",
        "AESMIE",
        "AEREL",
        "AEACN",
        "AEOUT",
        "AESTDTC",
        "AEENDTC",
        "AESTDY",
        "AEENDY",
    ],
    "EX": [
        *COMMON,
        "EXSEQ",
        "EXTRT",
        "EXDOSE",
        "EXDOSU",
        "EXDOSFRQ",
        "EXROUTE",
        "EXSTDTC",
        "EXENDTC",
        "EXSTDY",
        "EXENDY",
    ],
    "VS": [
        *COMMON,
        "VSSEQ",
        "VSTESTCD",
        "VSTEST",
        "VSORRES",
        "VSORRESU",
        "VSSTRESN",
        "VSSTRESU",
        "VISIT",
        "VSDTC",
        "VSDY",
    ],
    "MH": [
        *COMMON,
        "MHSEQ",
        "MHSPID",
        "MHTERM",
        "MHCAT",
        "MHPRESP",
        "MHOCCUR",
        "MHDTC",
        "MHDY",
    ],
    "RS": [
        *COMMON,
        "RSSEQ",
        "RSTESTCD",
        "RSTEST",
        "RSCAT",
        "RSORRES",
        "RSSTRESC",
        "VISIT",
        "RSDTC",
        "RSDY",
    ],
}


def yn(flag: bool) -> str:
    return "Y" if flag else "N"


def study_day(day: dt.date | dt.datetime | None, day1: dt.date | None) -> str:
    """SDTM --DY: day 1 is RFSTDTC, the day before it is -1 (there is no day 0)."""
    if day is None or day1 is None:
        return ""
    if isinstance(day, dt.datetime):
        day = day.astimezone(dt.UTC).date()
    delta = (day - day1).days
    return str(delta + 1 if delta >= 0 else delta)


class Context:
    """What every dataset needs of the study: its id, arms and sites (a few rows)."""

    def __init__(self, study, site_ids: list[int] | None, as_of: dt.datetime | None) -> None:
        self.study = study
        self.site_ids = site_ids
        self.as_of = as_of
        self.arms = {arm.pk: arm for arm in Arm.objects.filter(study=study)}
        self.sites = {site.pk: site for site in Site.objects.filter(study=study)}
        self.diagnoses = diagnosis_names(study.pk)

    def rows(self, name: str, **annotations):
        queryset = study_rows(TABLES_BY_NAME[name], self.study.pk, self.site_ids, self.as_of)
        return rows_of(queryset.annotate(**annotations) if annotations else queryset)

    def subjects(self, **streams) -> Iterator[tuple[object, dict[str, list]]]:
        """(patient row, rows by stream) of every live patient, in subject order."""
        for _subject, bundle in by_subject({"patient": self.rows("patients"), **streams}):
            patients = bundle.pop("patient")
            if patients and not patients[0].is_voided:
                yield (
                    patients[0],
                    {
                        name: [r for r in rows if not getattr(r, "is_voided", False)]
                        for name, rows in bundle.items()
                    },
                )

    def base(self, domain: str, patient) -> list[str]:
        return [self.study.registry_id, domain, f"{self.study.registry_id}-{patient.subject_id}"]


def dm_rows(ctx: Context) -> Iterator[list[str]]:
    for patient, _ in ctx.subjects():
        arm = ctx.arms.get(patient.arm_id)
        if arm is not None:
            armcd, arm_name = arm.code, arm.name
        elif patient.status == "screen_failed":
            armcd, arm_name = "SCRNFAIL", "Screen Failure"
        else:
            armcd, arm_name = "NOTASSGN", "Not Assigned"
        reference = patient.day1 or patient.screened_on
        yield [
            *ctx.base("DM", patient),
            patient.subject_id,
            text(patient.day1),
            ctx.sites[patient.site_id].code,
            text(patient.birth_date),
            str(age_in_years(patient.birth_date, reference)),
            "YEARS",
            patient.sex,
            armcd,
            arm_name,
            armcd,
            arm_name,
            ctx.sites[patient.site_id].country,
        ]


def ds_rows(ctx: Context) -> Iterator[list[str]]:
    for patient, rows in ctx.subjects(consents=ctx.rows("consents")):
        events = [
            ("INFORMED CONSENT OBTAINED", "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE", c)
            for c in (consent.consented_at for consent in rows["consents"])
        ]
        if patient.day1 is not None:
            term = "RANDOMIZED" if ctx.study.is_randomized else "ENROLLED"
            events.append((term, term, "PROTOCOL MILESTONE", patient.day1))
        disposition = _disposition(patient)
        if disposition is not None:
            events.append(disposition)
        for seq, (term, decod, category, day) in enumerate(events, start=1):
            yield [
                *ctx.base("DS", patient),
                str(seq),
                term,
                decod,
                category,
                text(day),
                study_day(day, patient.day1),
            ]


def _disposition(patient):
    day = patient.status_changed_on
    if patient.status == "completed":
        return ("COMPLETED", "COMPLETED", "DISPOSITION EVENT", day)
    if patient.status in ("withdrawn", "screen_failed"):
        codes = patient.status_reason_codes or []
        if patient.status == "screen_failed":
            decod = "SCREEN FAILURE"
        else:
            decod = codes[0].replace("_", " ").upper() if codes else "OTHER"
        term = patient.status_reason or decod
        return (term, decod, "DISPOSITION EVENT", day)
    return None


def lb_rows(ctx: Context) -> Iterator[list[str]]:
    labs = ctx.rows("labs", x_visit_code=F("visit__code"))
    for patient, rows in ctx.subjects(labs=labs):
        for seq, lab in enumerate(rows["labs"], start=1):
            test = LAB_TESTS.get(lab.test_code)
            yield [
                *ctx.base("LB", patient),
                str(seq),
                lab.source_accession,
                lab.test_code,
                test.name if test else lab.test_code,
                text(lab.value),
                lab.unit,
                text(lab.lln),
                text(lab.uln),
                text(lab.value_std),
                text(lab.value_std),
                lab.unit_std,
                text(lab.lln_std),
                text(lab.uln_std),
                lab.indicator,
                text(lab.ctcae_grade),
                lab.x_visit_code or "",
                text(lab.collected_at),
                study_day(lab.collected_at, patient.day1),
            ]


def _strongest(assessments: list) -> tuple[str, str]:
    """AEREL from the strongest causality over the drugs; AEACN the action, or MULTIPLE."""
    if not assessments:
        return "", ""
    strongest = max(assessments, key=lambda a: CAUSALITY_ORDER.index(a.causality))
    actions = {a.action_taken for a in assessments}
    action = actions.pop().replace("_", " ").upper() if len(actions) == 1 else "MULTIPLE"
    return AEREL[strongest.causality], action


def ae_rows(ctx: Context) -> Iterator[list[str]]:
    events = ctx.rows(
        "adverse_events",
        x_term=F("term__term"),
        x_code=F("term__meddra_code"),
        x_soc=F("term__soc"),
    )
    drugs = ctx.rows("ae_drug_assessments")
    for patient, rows in ctx.subjects(events=events, drugs=drugs):
        by_event: dict[int, list] = {}
        for assessment in rows["drugs"]:
            by_event.setdefault(assessment.adverse_event_id, []).append(assessment)
        for seq, event in enumerate(rows["events"], start=1):
            relation, action = _strongest(by_event.get(event.id, []))
            yield [
                *ctx.base("AE", patient),
                str(seq),
                event.verbatim,
                event.x_term,
                event.x_code,
                event.x_soc,
                str(event.grade),
                yn(event.is_serious),
                yn(event.serious_death),
                yn(event.serious_life_threatening),
                yn(event.serious_hospitalisation),
                yn(event.serious_disability),
                yn(event.serious_congenital_anomaly),
                yn(event.serious_other_important),
                relation,
                action,
                AEOUT.get(event.outcome, ""),
                text(event.onset_date),
                text(event.resolution_date),
                study_day(event.onset_date, patient.day1),
                study_day(event.resolution_date, patient.day1),
            ]


def ex_rows(ctx: Context) -> Iterator[list[str]]:
    doses = ctx.rows("doses", x_route=F("regimen__route"))
    for patient, rows in ctx.subjects(doses=doses):
        given = [dose for dose in rows["doses"] if dose.given]
        for seq, dose in enumerate(given, start=1):
            yield [
                *ctx.base("EX", patient),
                str(seq),
                dose.drug.upper(),
                text(dose.dose_mg),
                "mg",
                dose.frequency.upper(),
                dose.x_route.upper(),
                text(dose.start_date),
                text(dose.end_date),
                study_day(dose.start_date, patient.day1),
                study_day(dose.end_date, patient.day1),
            ]


def vs_rows(ctx: Context) -> Iterator[list[str]]:
    vitals = ctx.rows("vital_signs", x_visit_code=F("visit__code"))
    for patient, rows in ctx.subjects(vitals=vitals):
        seq = 0
        for measurement in rows["vitals"]:
            for field, code, name, unit in VS_TESTS:
                value = getattr(measurement, field)
                if value is None:
                    continue
                seq += 1
                yield [
                    *ctx.base("VS", patient),
                    str(seq),
                    code,
                    name,
                    text(value),
                    unit,
                    text(Decimal(value)),
                    unit,
                    measurement.x_visit_code or "",
                    text(measurement.measured_on),
                    study_day(measurement.measured_on, patient.day1),
                ]


def rs_rows(ctx: Context) -> Iterator[list[str]]:
    """Per-visit overall responses (RSTESTCD OVRLRESP) and each endpoint's result (RSCAT
    ENDPOINT, RSTESTCD the endpoint code in capitals, RSORRES Y/N or its value)."""
    assessments = ctx.rows("assessments")
    for patient, rows in ctx.subjects(assessments=assessments):
        seq = 0
        for assessment in rows["assessments"]:
            for visit in assessment.visits or []:
                seq += 1
                yield [
                    *ctx.base("RS", patient),
                    str(seq),
                    "OVRLRESP",
                    "Overall Response",
                    "VISIT RESPONSE",
                    visit.get("response") or "",
                    visit.get("response") or "",
                    visit.get("visit") or "",
                    visit.get("date") or "",
                    study_day(dt.date.fromisoformat(visit["date"]), patient.day1),
                ]
            for code in sorted(assessment.endpoints or {}):
                result = assessment.endpoints[code]
                if result.get("applicable") is False:
                    continue  # an endpoint of another diagnosis: no result to report
                seq += 1
                outcome = _endpoint_result(result)
                yield [
                    *ctx.base("RS", patient),
                    str(seq),
                    code.upper(),
                    code,
                    "ENDPOINT",
                    outcome,
                    outcome,
                    "",
                    text(assessment.evaluated_on),
                    study_day(assessment.evaluated_on, patient.day1),
                ]


def mh_rows(ctx: Context) -> Iterator[list[str]]:
    """The diagnosis the patient was screened with (the condition under study): MHTERM its name
    as the protocol gives it, MHSPID its code, collected at screening."""
    for patient, _ in ctx.subjects():
        if not patient.diagnosis:
            continue
        yield [
            *ctx.base("MH", patient),
            "1",
            patient.diagnosis,
            ctx.diagnoses.get(patient.diagnosis, patient.diagnosis),
            "PRIMARY DIAGNOSIS",
            "Y",
            "Y",
            text(patient.screened_on),
            study_day(patient.screened_on, patient.day1),
        ]


def _endpoint_result(result: dict) -> str:
    if result.get("met") is not None:
        return yn(result["met"])
    value = result.get("value")
    return "" if value is None else text(value)


DATASETS: dict[str, Callable[[Context], Iterator[list[str]]]] = {
    "DM": dm_rows,
    "DS": ds_rows,
    "LB": lb_rows,
    "AE": ae_rows,
    "EX": ex_rows,
    "VS": vs_rows,
    "RS": rs_rows,
    "MH": mh_rows,
}


def sdtm_files(study, site_ids: list[int] | None, as_of: dt.datetime | None):
    ctx = Context(study, site_ids, as_of)
    for domain, rows in DATASETS.items():
        if domain == "MH" and not ctx.diagnoses:
            continue  # a study that records no diagnosis has no MH dataset
        yield f"{domain.lower()}.csv", _with_header(domain, rows(ctx))


def _with_header(domain: str, rows: Iterator[list[str]]) -> Iterator[list[str]]:
    yield VARIABLES[domain]
    yield from rows
