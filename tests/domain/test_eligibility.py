from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ecrf.domain.eligibility import (
    Criterion,
    CriterionKind,
    CriterionResult,
    EligibilityStatus,
    LabFact,
    PatientFacts,
    ResultSource,
    evaluate_eligibility,
    validate_rule,
)
from ecrf.domain.errors import DomainError
from ecrf.domain.units import UnknownTestCode, UnknownUnit

D = Decimal
COLLECTED = date(2024, 5, 2)


def lab(value, unit, value_std=None, lln=None, uln=None) -> LabFact:
    std = D(value) if value_std is None else D(value_std)
    return LabFact(
        D(value),
        unit,
        std,
        None if lln is None else D(lln),
        None if uln is None else D(uln),
        COLLECTED,
    )


def facts(age=45, sex="F", ecog=1, **labs: LabFact) -> PatientFacts:
    return PatientFacts(age_years=age, sex=sex, ecog=ecog, labs=labs)


def evaluate_rule(rule, patient: PatientFacts) -> CriterionResult:
    criterion = Criterion("c", CriterionKind.INCLUSION, "criterion under test", rule)
    return evaluate_eligibility([criterion], patient, {}).results[0]


# --- Fields -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "age", "met", "detail"),
    [
        ("<", 17, True, "age 17 years: < 18"),
        ("<", 18, False, "age 18 years: not < 18"),
        ("<=", 18, True, "age 18 years: ≤ 18"),
        ("<=", 19, False, "age 19 years: not ≤ 18"),
        (">", 18, False, "age 18 years: not > 18"),
        (">", 19, True, "age 19 years: > 18"),
        (">=", 17, False, "age 17 years: not ≥ 18"),
        (">=", 18, True, "age 18 years: ≥ 18"),
        ("==", 18, True, "age 18 years: = 18"),
        ("==", 19, False, "age 19 years: not = 18"),
    ],
)
def test_comparison_operators_at_the_boundary(op, age, met, detail):
    result = evaluate_rule({"field": "age_years", "op": op, "value": 18}, facts(age=age))
    assert (result.met, result.detail) == (met, detail)


@pytest.mark.parametrize(
    ("age", "met", "detail"),
    [
        (17, False, "age 17 years: not between 18 and 70"),
        (18, True, "age 18 years: between 18 and 70"),
        (45, True, "age 45 years: between 18 and 70"),
        (70, True, "age 70 years: between 18 and 70"),
        (71, False, "age 71 years: not between 18 and 70"),
        (None, None, "age not recorded"),
    ],
)
def test_between_is_inclusive(age, met, detail):
    rule = {"field": "age_years", "op": "between", "low": 18, "high": 70}
    result = evaluate_rule(rule, facts(age=age))
    assert (result.met, result.source, result.detail) == (met, ResultSource.AUTOMATIC, detail)


@pytest.mark.parametrize(
    ("rule", "patient", "met", "detail"),
    [
        ({"field": "ecog", "op": "<=", "value": 2}, facts(ecog=2), True, "ECOG 2: ≤ 2"),
        ({"field": "ecog", "op": "<=", "value": 2}, facts(ecog=3), False, "ECOG 3: not ≤ 2"),
        ({"field": "ecog", "op": "<=", "value": 2}, facts(ecog=None), None, "ECOG not recorded"),
        ({"field": "sex", "op": "==", "value": "F"}, facts(sex="f"), True, "sex f: is F"),
        ({"field": "sex", "op": "==", "value": "F"}, facts(sex="M"), False, "sex M: is not F"),
        ({"field": "sex", "op": "==", "value": "F"}, facts(sex=None), None, "sex not recorded"),
    ],
)
def test_ecog_and_sex(rule, patient, met, detail):
    result = evaluate_rule(rule, patient)
    assert (result.met, result.detail) == (met, detail)


# --- Labs -------------------------------------------------------------------------------------

PLT_BELOW_30 = {"test_code": "PLAT", "op": "<", "value": 30, "unit": "10^9/L"}


@pytest.mark.parametrize(
    ("fact", "met", "detail"),
    [
        (lab("29.9", "10^9/L"), True, "PLAT 29.9 10^9/L: < 30 10^9/L"),
        (lab("30", "10^9/L"), False, "PLAT 30 10^9/L: not < 30 10^9/L"),
        (lab("25000", "/µL", "25"), True, "PLAT 25000 /µL = 25 10^9/L: < 30 10^9/L"),
        (lab("25", "G/L"), True, "PLAT 25 G/L = 25 10^9/L: < 30 10^9/L"),
    ],
)
def test_lab_threshold_in_standard_unit(fact, met, detail):
    result = evaluate_rule(PLT_BELOW_30, facts(PLAT=fact))
    assert (result.met, result.detail) == (met, detail)


def test_missing_lab_result_is_unknown():
    result = evaluate_rule(PLT_BELOW_30, facts(HGB=lab("120", "g/L")))
    assert (result.met, result.detail) == (None, "no PLAT result recorded")


CREAT_ABOVE_1_5_MG_DL = {"test_code": "CREAT", "op": ">", "value": 1.5, "unit": "mg/dL"}


@pytest.mark.parametrize(
    ("fact", "met", "detail"),
    [
        # 1.5 mg/dL × 88.42 = 132.63 µmol/L.
        (
            lab("132.63", "umol/L"),
            False,
            "CREAT 132.63 umol/L: not > 1.5 mg/dL (= 132.63 umol/L)",
        ),
        (lab("132.64", "µmol/L"), True, "CREAT 132.64 µmol/L: > 1.5 mg/dL (= 132.63 umol/L)"),
        (
            lab("1.8", "mg/dL", "159.156"),
            True,
            "CREAT 1.8 mg/dL = 159.156 umol/L: > 1.5 mg/dL (= 132.63 umol/L)",
        ),
        (
            lab("1.5", "mg/dL", "132.63"),
            False,
            "CREAT 1.5 mg/dL = 132.63 umol/L: not > 1.5 mg/dL (= 132.63 umol/L)",
        ),
    ],
)
def test_creatinine_threshold_in_mg_dl_is_converted(fact, met, detail):
    result = evaluate_rule(CREAT_ABOVE_1_5_MG_DL, facts(CREAT=fact))
    assert (result.met, result.detail) == (met, detail)


def test_hb_threshold_in_g_dl_and_between():
    rule = {"test_code": "HGB", "op": "between", "low": 8, "high": 10, "unit": "g/dL"}
    result = evaluate_rule(rule, facts(HGB=lab("80", "g/L")))
    assert (result.met, result.detail) == (
        True,
        "HGB 80 g/L: between 8 g/dL and 10 g/dL (= 80 and 100 g/L)",
    )


ALT_3_ULN = {"test_code": "ALT", "op": ">=", "value": 3, "unit": "xULN"}


@pytest.mark.parametrize(
    ("fact", "met", "detail"),
    [
        (lab("130", "U/L", uln="40"), True, "ALT 130 U/L = 3.25×ULN (ULN 40 U/L): ≥ 3×ULN"),
        (lab("120", "U/L", uln="40"), True, "ALT 120 U/L = 3×ULN (ULN 40 U/L): ≥ 3×ULN"),
        (
            lab("119.9", "U/L", uln="40"),
            False,
            "ALT 119.9 U/L = 2.9975×ULN (ULN 40 U/L): not ≥ 3×ULN",
        ),
        (
            lab("2", "ukat/L", "120", uln="40"),
            True,
            "ALT 2 ukat/L = 120 U/L = 3×ULN (ULN 40 U/L): ≥ 3×ULN",
        ),
        (
            lab("130", "U/L"),
            None,
            "ALT 130 U/L: no ULN recorded for this result, ×ULN unknown",
        ),
    ],
)
def test_times_uln(fact, met, detail):
    result = evaluate_rule(ALT_3_ULN, facts(ALT=fact))
    assert (result.met, result.detail) == (met, detail)


@pytest.mark.parametrize(
    ("unit", "rule_extra", "fact", "met", "detail"),
    [
        (
            "x LLN",
            {"op": "<", "value": 0.5},
            lab("70", "10^9/L", lln="150"),
            True,
            "PLAT 70 10^9/L = 0.4667×LLN (LLN 150 10^9/L): < 0.5×LLN",
        ),
        (
            "×ULN",
            {"op": "between", "low": 1, "high": 1.5},
            lab("400", "10^9/L", uln="400"),
            True,
            "PLAT 400 10^9/L = 1×ULN (ULN 400 10^9/L): between 1×ULN and 1.5×ULN",
        ),
    ],
)
def test_times_lln_and_limit_spellings(unit, rule_extra, fact, met, detail):
    rule = {"test_code": "PLAT", "unit": unit, **rule_extra}
    result = evaluate_rule(rule, facts(PLAT=fact))
    assert (result.met, result.detail) == (met, detail)


# --- any / all --------------------------------------------------------------------------------

TRUE = {"field": "age_years", "op": ">=", "value": 18}  # age 45
FALSE = {"field": "age_years", "op": "<", "value": 18}
UNKNOWN = {"field": "ecog", "op": "<=", "value": 2}  # ECOG not recorded


@pytest.mark.parametrize(
    ("combinator", "parts", "met"),
    [
        ("any", [TRUE, FALSE], True),
        ("any", [FALSE, FALSE], False),
        ("any", [FALSE, UNKNOWN], None),
        ("any", [UNKNOWN, TRUE], True),
        ("any", [UNKNOWN, UNKNOWN], None),
        ("all", [TRUE, TRUE], True),
        ("all", [TRUE, FALSE], False),
        ("all", [TRUE, UNKNOWN], None),
        ("all", [UNKNOWN, FALSE], False),
        ("all", [{"any": [FALSE, TRUE]}, TRUE], True),
    ],
)
def test_three_valued_any_and_all(combinator, parts, met):
    assert evaluate_rule({combinator: parts}, facts(ecog=None)).met is met


def test_any_detail_lists_each_part():
    rule = {"any": [ALT_3_ULN, {"test_code": "AST", "op": ">=", "value": 3, "unit": "xULN"}]}
    result = evaluate_rule(rule, facts(ALT=lab("130", "U/L", uln="40")))
    assert result.detail == (
        "any of: ALT 130 U/L = 3.25×ULN (ULN 40 U/L): ≥ 3×ULN; no AST result recorded"
    )


# --- Screening outcome ------------------------------------------------------------------------

# NCT05471050, abridged.
CRITERIA = [
    Criterion(
        "age_18_70",
        CriterionKind.INCLUSION,
        "Age 18 to 70 years",
        {"field": "age_years", "op": "between", "low": 18, "high": 70},
    ),
    Criterion("plt_below_30", CriterionKind.INCLUSION, "Platelets < 30 x10^9/L", PLT_BELOW_30),
    Criterion(
        "alt_ast_3uln",
        CriterionKind.EXCLUSION,
        "ALT or AST >= 3 x ULN",
        {"any": [ALT_3_ULN, {"test_code": "AST", "op": ">=", "value": 3, "unit": "xULN"}]},
    ),
    Criterion("primary_itp", CriterionKind.INCLUSION, "Primary immune thrombocytopenia"),
    Criterion("pregnancy", CriterionKind.EXCLUSION, "Pregnancy or lactation"),
]
GOOD_LABS = {
    "PLAT": lab("18", "10^9/L", lln="125", uln="350"),
    "ALT": lab("22", "U/L", uln="40"),
    "AST": lab("25", "U/L", uln="40"),
}


def screen(answers, age=45, **lab_overrides):
    patient = PatientFacts(age_years=age, sex="F", ecog=0, labs={**GOOD_LABS, **lab_overrides})
    return evaluate_eligibility(CRITERIA, patient, answers)


def test_eligible_when_every_criterion_is_satisfied():
    outcome = screen({"primary_itp": True, "pregnancy": False})
    assert (outcome.eligible, outcome.status) == (True, EligibilityStatus.ELIGIBLE)
    assert [(r.code, r.met, r.source) for r in outcome.results] == [
        ("age_18_70", True, ResultSource.AUTOMATIC),
        ("plt_below_30", True, ResultSource.AUTOMATIC),
        ("alt_ast_3uln", False, ResultSource.AUTOMATIC),
        ("primary_itp", True, ResultSource.INVESTIGATOR),
        ("pregnancy", False, ResultSource.INVESTIGATOR),
    ]
    assert outcome.results[3].detail == "investigator: met"
    assert outcome.results[4].detail == "investigator: not met"


@pytest.mark.parametrize(
    ("answers", "age", "labs", "status"),
    [
        ({"primary_itp": True}, 45, {}, EligibilityStatus.INCOMPLETE),  # pregnancy unanswered
        ({}, 45, {}, EligibilityStatus.INCOMPLETE),
        ({"primary_itp": True, "pregnancy": False}, None, {}, EligibilityStatus.INCOMPLETE),
        ({"primary_itp": False, "pregnancy": False}, 45, {}, EligibilityStatus.INELIGIBLE),
        ({"primary_itp": True, "pregnancy": True}, 45, {}, EligibilityStatus.INELIGIBLE),
        ({"primary_itp": True, "pregnancy": False}, 71, {}, EligibilityStatus.INELIGIBLE),
        # A failed criterion decides even while others are still open.
        ({}, 45, {"ALT": lab("200", "U/L", uln="40")}, EligibilityStatus.INELIGIBLE),
        # ×ULN without a ULN leaves the exclusion open.
        (
            {"primary_itp": True, "pregnancy": False},
            45,
            {"AST": lab("25", "U/L")},
            EligibilityStatus.INCOMPLETE,
        ),
    ],
)
def test_screening_status(answers, age, labs, status):
    outcome = screen(answers, age=age, **labs)
    assert outcome.status == status
    assert outcome.eligible is (status == EligibilityStatus.ELIGIBLE)


def test_unanswered_investigator_criterion_is_open():
    result = screen({"primary_itp": True}).results[4]
    assert (result.met, result.source, result.detail) == (
        None,
        ResultSource.INVESTIGATOR,
        "awaiting investigator confirmation",
    )


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        (
            {"plt_below_30": True},
            "answers.plt_below_30",
            "this criterion is evaluated automatically from the data",
        ),
        ({"hiv": False}, "answers.hiv", "no criterion of the protocol has this code"),
        ({"primary_itp": "yes"}, "answers.primary_itp", "must be true or false"),
    ],
)
def test_bad_answers(answers, field, message):
    with pytest.raises(DomainError) as raised:
        screen(answers)
    assert (raised.value.field, raised.value.message) == (field, message)


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ([Criterion("a", "inclusion", "x"), Criterion("a", "exclusion", "y")], "criteria.a"),
        ([Criterion("a", "maybe", "x")], "criteria.a.kind"),
        (
            [Criterion("a", "inclusion", "x", {"field": "age_years", "op": "~"})],
            "criteria.a.rule.op",
        ),
    ],
)
def test_bad_criteria(criteria, field):
    with pytest.raises(DomainError) as raised:
        evaluate_eligibility(criteria, facts(), {})
    assert raised.value.field == field


def test_criteria_kinds_may_be_plain_strings_from_the_protocol_file():
    outcome = evaluate_eligibility([Criterion("a", "exclusion", "x", FALSE)], facts(), {})
    assert outcome.results[0].kind is CriterionKind.EXCLUSION
    assert outcome.status == EligibilityStatus.ELIGIBLE


# --- validate_rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        {"field": "age_years", "op": "between", "low": 18, "high": 70},
        {"field": "sex", "op": "==", "value": "F"},
        PLT_BELOW_30,
        CREAT_ABOVE_1_5_MG_DL,
        {"test_code": "creat", "op": ">", "value": "132.6", "unit": "µmol/l"},
        {"any": [ALT_3_ULN, {"all": [TRUE, {"test_code": "HGB", "op": "<", "value": 80,
                                             "unit": "g/L"}]}]},
    ],
)  # fmt: skip
def test_valid_rules(rule):
    assert validate_rule(rule) is None


@pytest.mark.parametrize(
    ("rule", "field", "error"),
    [
        ("age >= 18", "rule", DomainError),
        ({"op": "<", "value": 1}, "rule", DomainError),
        ({"field": "weight_kg", "op": "<", "value": 1}, "rule.field", DomainError),
        ({"field": "age_years", "value": 18}, "rule.op", DomainError),
        ({"field": "age_years", "op": "=>", "value": 18}, "rule.op", DomainError),
        ({"field": "age_years", "op": ">="}, "rule.value", DomainError),
        ({"field": "age_years", "op": ">=", "value": None}, "rule.value", DomainError),
        ({"field": "age_years", "op": ">=", "value": "adult"}, "rule.value", DomainError),
        ({"field": "age_years", "op": "between", "low": 18}, "rule.high", DomainError),
        ({"field": "age_years", "op": "between", "high": 70}, "rule.low", DomainError),
        ({"field": "age_years", "op": "between", "low": 70, "high": 18}, "rule.high", DomainError),
        ({"field": "age_years", "op": ">=", "value": 18, "unit": "y"}, "rule.unit", DomainError),
        ({"field": "age_years", "op": ">=", "vaule": 18}, "rule.vaule", DomainError),
        ({"field": "sex", "op": "<", "value": "F"}, "rule.op", DomainError),
        ({"field": "sex", "op": "==", "value": ""}, "rule.value", DomainError),
        ({"test_code": "PLT", "op": "<", "value": 30, "unit": "10^9/L"}, "rule.test_code",
         UnknownTestCode),
        ({"test_code": "PLAT", "op": "<", "value": 30}, "rule.unit", DomainError),
        ({"test_code": "PLAT", "op": "<", "value": 30, "unit": "mg/dL"}, "rule.unit", UnknownUnit),
        ({"test_code": "PLAT", "op": "<", "unit": "10^9/L"}, "rule.value", DomainError),
        ({"any": []}, "rule.any", DomainError),
        ({"all": "PLAT"}, "rule.all", DomainError),
        ({"any": [TRUE], "field": "age_years"}, "rule.field", DomainError),
        ({"any": [TRUE, {"test_code": "ALT", "op": ">=", "value": 3, "unit": "furlongs"}]},
         "rule.any.1.unit", UnknownUnit),
        ({"all": [{"any": [TRUE, {"field": "bmi"}]}]}, "rule.all.0.any.1.field", DomainError),
    ],
)  # fmt: skip
def test_invalid_rules(rule, field, error):
    with pytest.raises(error) as raised:
        validate_rule(rule)
    assert raised.value.field == field


def test_unknown_unit_in_a_rule_lists_the_limit_units_too():
    with pytest.raises(UnknownUnit) as raised:
        validate_rule({"test_code": "K", "op": ">", "value": 5.5, "unit": "mg/dL"}, "eligibility.3")
    assert raised.value.field == "eligibility.3.unit"
    assert raised.value.message == (
        "unit 'mg/dL' is not accepted for K (accepted: mmol/L, mEq/L, xULN, xLLN)"
    )
