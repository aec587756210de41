"""Evaluation of a protocol's inclusion and exclusion criteria (grammar: docs/domain-contracts.md).

A criterion with a ``rule`` is evaluated automatically from the patient's data; one without is
confirmed by the investigator. Every criterion ends up *met* (True), *not met* (False) or
*unknown* (None: data missing, no ULN for a ×ULN rule, or no answer yet).

Status: a failed criterion (inclusion not met, exclusion met) makes the patient ineligible even if
other criteria are still open, so a screen failure is known as early as possible; otherwise any
unknown criterion leaves the screening incomplete; else the patient is eligible.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ecrf.domain import protocol_readers as read
from ecrf.domain import units
from ecrf.domain.errors import DomainError
from ecrf.domain.units import UnknownUnit, as_decimal, format_decimal

# --- Inputs and results -----------------------------------------------------------------------


class CriterionKind(StrEnum):
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"


class ResultSource(StrEnum):
    AUTOMATIC = "automatic"
    INVESTIGATOR = "investigator"


class EligibilityStatus(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class Criterion:
    code: str
    kind: CriterionKind
    text: str
    rule: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LabFact:
    """One result, as reported and in the test's standard unit (limits in standard units too)."""

    value: Decimal
    unit: str
    value_std: Decimal
    lln_std: Decimal | None
    uln_std: Decimal | None
    collected_on: date


@dataclass(frozen=True)
class PatientFacts:
    age_years: int | None = None
    sex: str | None = None
    ecog: int | None = None
    labs: Mapping[str, LabFact] = field(default_factory=dict)  # by test code


@dataclass(frozen=True)
class CriterionResult:
    code: str
    kind: CriterionKind
    met: bool | None
    source: ResultSource
    detail: str


@dataclass(frozen=True)
class EligibilityOutcome:
    eligible: bool
    status: EligibilityStatus
    results: tuple[CriterionResult, ...]


# --- Rule grammar -----------------------------------------------------------------------------

_OPERATORS: Mapping[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
_OP_SYMBOLS: Mapping[str, str] = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "="}
BETWEEN = "between"
COMBINATORS = ("any", "all")
NUMERIC_FIELDS: Mapping[str, str] = {"age_years": "age", "ecog": "ECOG"}
TEXT_FIELDS: Mapping[str, str] = {"sex": "sex"}
FIELDS = (*NUMERIC_FIELDS, *TEXT_FIELDS)


class LimitUnit(StrEnum):
    """Thresholds relative to the result's reference range."""

    X_ULN = "xULN"
    X_LLN = "xLLN"


def _limit_unit(unit: object) -> LimitUnit | None:
    if not isinstance(unit, str):
        return None
    key = unit.replace(" ", "").replace("×", "x").lower()
    return next((limit for limit in LimitUnit if limit.value.lower() == key), None)


def _threshold_keys(op: str) -> tuple[str, ...]:
    return ("low", "high") if op == BETWEEN else ("value",)


# --- read_rule --------------------------------------------------------------------------------


def read_rule(rule: object, path: str = "rule") -> dict[str, Any]:
    """The rule as read: checked (DomainError naming the dotted path of the first bad key, e.g.
    ``rule.any.1.unit``) and returned with its texts stripped (the protocol readers' whitespace
    rule) and its test codes canonical, so the evaluation reads exactly what was checked."""
    rule = read.mapping(rule, path)
    combinator = next((key for key in COMBINATORS if key in rule), None)
    if combinator is not None:
        return _read_combination(rule, combinator, path)
    if "field" in rule:
        return _read_field_rule(rule, path)
    if "test_code" in rule:
        return _read_lab_rule(rule, path)
    raise DomainError(path, "needs one of: field, test_code, any, all")


def validate_rule(rule: object, path: str = "rule") -> None:
    """Raise DomainError naming the dotted path of the first bad key (``rule.any.1.unit``)."""
    read_rule(rule, path)


def _read_combination(rule: Mapping[str, Any], combinator: str, path: str) -> dict[str, Any]:
    read.reject_unknown_keys(rule, (combinator,), path)
    parts = rule[combinator]
    if not isinstance(parts, Sequence) or isinstance(parts, str) or not parts:
        raise DomainError(f"{path}.{combinator}", "must be a non-empty list of rules")
    return {
        combinator: [
            read_rule(part, f"{path}.{combinator}.{index}") for index, part in enumerate(parts)
        ]
    }


def _read_op(rule: Mapping[str, Any], path: str, ops: Sequence[str]) -> str:
    if read.is_missing(rule.get("op")):
        raise DomainError(f"{path}.op", "is missing")
    return read.choice(rule["op"], f"{path}.op", ops)


def _read_thresholds(rule: Mapping[str, Any], op: str, path: str) -> dict[str, Decimal]:
    thresholds = {}
    for key in _threshold_keys(op):
        if key not in rule or rule[key] is None:
            raise DomainError(f"{path}.{key}", f"is missing (op {op} needs it)")
        thresholds[key] = read.decimal(rule[key], f"{path}.{key}")
    if op == BETWEEN and thresholds["low"] > thresholds["high"]:
        raise DomainError(f"{path}.high", "must not be below low")
    return thresholds


def _read_field_rule(rule: Mapping[str, Any], path: str) -> dict[str, Any]:
    name = read.choice(rule["field"], f"{path}.field", FIELDS)
    if name in TEXT_FIELDS:
        read.reject_unknown_keys(rule, ("field", "op", "value"), path)
        op = _read_op(rule, path, ("==",))
        return {"field": name, "op": op, "value": read.text(rule.get("value"), f"{path}.value")}
    op = _read_op(rule, path, (*_OPERATORS, BETWEEN))
    read.reject_unknown_keys(rule, ("field", "op", *_threshold_keys(op)), path)
    return {"field": name, "op": op, **_read_thresholds(rule, op, path)}


def _read_lab_rule(rule: Mapping[str, Any], path: str) -> dict[str, Any]:
    test = units.lab_test(rule["test_code"], f"{path}.test_code")
    op = _read_op(rule, path, (*_OPERATORS, BETWEEN))
    read.reject_unknown_keys(rule, ("test_code", "op", "unit", *_threshold_keys(op)), path)
    thresholds = _read_thresholds(rule, op, path)
    if read.is_missing(rule.get("unit")):
        raise DomainError(f"{path}.unit", "is missing (a lab threshold needs its unit)")
    unit = read.text(rule["unit"], f"{path}.unit")
    if _limit_unit(unit) is None:
        try:
            units.normalize_unit(test.code, unit, f"{path}.unit")
        except UnknownUnit as error:
            accepted = (*test.accepted_units, *LimitUnit)
            raise UnknownUnit(test.code, rule["unit"], accepted, error.field) from None
    return {"test_code": test.code, "op": op, "unit": unit, **thresholds}


# --- Evaluation of one rule -------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    met: bool | None
    detail: str


def _comparison_text(op: str, rule: Mapping[str, Any], suffix: str = "") -> str:
    """``≥ 3×ULN``, ``between 18 and 70``, ``< 30 10^9/L`` (``suffix`` is ``×ULN``, `` 10^9/L``)."""
    if op == BETWEEN:
        low, high = (format_decimal(threshold) for threshold in _thresholds(rule, op))
        return f"between {low}{suffix} and {high}{suffix}"
    (value,) = _thresholds(rule, op)
    return f"{_OP_SYMBOLS[op]} {format_decimal(value)}{suffix}"


def _compare(value: Decimal, op: str, low: Decimal, high: Decimal | None = None) -> bool:
    if op == BETWEEN:
        return low <= value <= high
    return _OPERATORS[op](value, low)


def _outcome_text(met: bool, comparison: str) -> str:
    return comparison if met else f"not {comparison}"


def _evaluate_field(rule: Mapping[str, Any], facts: PatientFacts) -> _Verdict:
    name = rule["field"]
    value = getattr(facts, name)
    label = NUMERIC_FIELDS.get(name) or TEXT_FIELDS[name]
    if value is None:
        return _Verdict(None, f"{label} not recorded")
    op = rule["op"]
    if name in TEXT_FIELDS:
        expected = str(rule["value"]).strip()
        met = str(value).strip().lower() == expected.lower()
        return _Verdict(met, f"{label} {value}: {'is' if met else 'is not'} {expected}")
    comparison = _comparison_text(op, rule)
    shown = f"{label} {value} years" if name == "age_years" else f"{label} {value}"
    met = _compare(as_decimal(value, name), op, *_thresholds(rule, op))
    return _Verdict(met, f"{shown}: {_outcome_text(met, comparison)}")


def _thresholds(rule: Mapping[str, Any], op: str) -> tuple[Decimal, ...]:
    return tuple(as_decimal(rule[key], key) for key in _threshold_keys(op))


def _reported(code: str, fact: LabFact) -> str:
    """``CREAT 1.8 mg/dL = 159.156 umol/L``, or ``PLAT 25 10^9/L`` when already standard."""
    standard = units.standard_unit(code)
    text = f"{code} {format_decimal(fact.value)} {fact.unit}"
    if units.normalize_unit(code, fact.unit, f"facts.labs.{code}.unit") != standard:
        text += f" = {format_decimal(fact.value_std)} {standard}"
    return text


def _evaluate_lab(rule: Mapping[str, Any], facts: PatientFacts) -> _Verdict:
    code = units.lab_test(rule["test_code"]).code
    fact = facts.labs.get(code)
    if fact is None:
        return _Verdict(None, f"no {code} result recorded")
    limit = _limit_unit(rule["unit"])
    if limit is not None:
        return _evaluate_relative_to_limit(rule, code, fact, limit)
    op, unit = rule["op"], units.normalize_unit(code, rule["unit"])
    standard = units.standard_unit(code)
    thresholds_std = tuple(units.to_standard(code, t, unit) for t in _thresholds(rule, op))
    met = _compare(fact.value_std, op, *thresholds_std)
    comparison = _comparison_text(op, rule, f" {unit}")
    if unit != standard:
        converted = " and ".join(format_decimal(t) for t in thresholds_std)
        comparison += f" (= {converted} {standard})"
    return _Verdict(met, f"{_reported(code, fact)}: {_outcome_text(met, comparison)}")


def _evaluate_relative_to_limit(
    rule: Mapping[str, Any], code: str, fact: LabFact, limit: LimitUnit
) -> _Verdict:
    name = limit.value[1:]
    reference = fact.uln_std if limit is LimitUnit.X_ULN else fact.lln_std
    if reference is None or reference <= 0:
        return _Verdict(
            None, f"{_reported(code, fact)}: no {name} recorded for this result, ×{name} unknown"
        )
    op = rule["op"]
    # Compare value against multiple × limit exactly; the rounded ratio is for display only.
    multiples = [multiple * reference for multiple in _thresholds(rule, op)]
    met = _compare(fact.value_std, op, *multiples)
    ratio = units.times_limit(fact.value_std, reference)
    shown = (
        f"{_reported(code, fact)} = {format_decimal(ratio)}×{name} "
        f"({name} {format_decimal(reference)} {units.standard_unit(code)})"
    )
    comparison = _comparison_text(op, rule, f"×{name}")
    return _Verdict(met, f"{shown}: {_outcome_text(met, comparison)}")


def _combine(combinator: str, verdicts: list[_Verdict]) -> _Verdict:
    """Three-valued any/all: a decisive part decides, otherwise an unknown part leaves it open."""
    decisive = combinator == "any"  # any: one True decides; all: one False decides
    outcomes = [verdict.met for verdict in verdicts]
    if decisive in outcomes:
        met: bool | None = decisive
    elif None in outcomes:
        met = None
    else:
        met = not decisive
    details = "; ".join(verdict.detail for verdict in verdicts)
    return _Verdict(met, f"{combinator} of: {details}")


def _evaluate_rule(rule: Mapping[str, Any], facts: PatientFacts) -> _Verdict:
    for combinator in COMBINATORS:
        if combinator in rule:
            return _combine(combinator, [_evaluate_rule(part, facts) for part in rule[combinator]])
    if "field" in rule:
        return _evaluate_field(rule, facts)
    return _evaluate_lab(rule, facts)


# --- Evaluation of a screening ----------------------------------------------------------------


def _read_criteria(criteria: Sequence[Criterion]) -> dict[str, dict[str, Any]]:
    """Each criterion's rule as read (see read_rule), by criterion code."""
    seen: set[str] = set()
    rules: dict[str, dict[str, Any]] = {}
    for criterion in criteria:
        path = f"criteria.{criterion.code}"
        if criterion.code in seen:
            raise DomainError(path, "criterion code is listed twice")
        seen.add(criterion.code)
        if criterion.kind not in tuple(CriterionKind):
            raise DomainError(f"{path}.kind", f"unknown kind {criterion.kind!r}")
        if criterion.rule is not None:
            rules[criterion.code] = read_rule(criterion.rule, f"{path}.rule")
    return rules


def _validate_answers(criteria: Sequence[Criterion], answers: Mapping[str, bool]) -> None:
    by_code = {criterion.code: criterion for criterion in criteria}
    for code, answer in answers.items():
        criterion = by_code.get(code)
        if criterion is None:
            raise DomainError(f"answers.{code}", "no criterion of the protocol has this code")
        if criterion.rule is not None:
            raise DomainError(
                f"answers.{code}", "this criterion is evaluated automatically from the data"
            )
        if not isinstance(answer, bool):
            raise DomainError(f"answers.{code}", "must be true or false")


def _investigator_verdict(criterion: Criterion, answers: Mapping[str, bool]) -> _Verdict:
    answer = answers.get(criterion.code)
    if answer is None:
        return _Verdict(None, "awaiting investigator confirmation")
    return _Verdict(answer, f"investigator: {'met' if answer else 'not met'}")


def _result(
    criterion: Criterion,
    rule: Mapping[str, Any] | None,
    facts: PatientFacts,
    answers: Mapping[str, bool],
) -> CriterionResult:
    if rule is None:
        verdict, source = _investigator_verdict(criterion, answers), ResultSource.INVESTIGATOR
    else:
        verdict, source = _evaluate_rule(rule, facts), ResultSource.AUTOMATIC
    kind = CriterionKind(criterion.kind)
    return CriterionResult(criterion.code, kind, verdict.met, source, verdict.detail)


def _fails(result: CriterionResult) -> bool:
    """An inclusion criterion not met, or an exclusion criterion met."""
    if result.kind is CriterionKind.INCLUSION:
        return result.met is False
    return result.met is True


def evaluate_eligibility(
    criteria: Sequence[Criterion],
    facts: PatientFacts,
    answers: Mapping[str, bool] | None = None,
) -> EligibilityOutcome:
    """Evaluate every criterion; ``answers`` holds the investigator's True (met) / False (not met)
    for criteria without a rule. For an exclusion criterion, met means the exclusion applies."""
    answers = answers or {}
    rules = _read_criteria(criteria)
    _validate_answers(criteria, answers)
    results = tuple(
        _result(criterion, rules.get(criterion.code), facts, answers) for criterion in criteria
    )
    if any(_fails(result) for result in results):
        status = EligibilityStatus.INELIGIBLE
    elif any(result.met is None for result in results):
        status = EligibilityStatus.INCOMPLETE
    else:
        status = EligibilityStatus.ELIGIBLE
    return EligibilityOutcome(status is EligibilityStatus.ELIGIBLE, status, results)
