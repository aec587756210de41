"""The protocol-file readers shared by the protocol, endpoint and eligibility parsers: one
whitespace rule and errors naming the key path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ecrf.domain import protocol_readers as read
from ecrf.domain.eligibility import (
    Criterion,
    CriterionKind,
    PatientFacts,
    evaluate_eligibility,
    read_rule,
)
from ecrf.domain.endpoints import LevelMatch, build_endpoint_specs
from ecrf.domain.errors import DomainError
from ecrf.domain.protocol_spec import resolve_protocol

from .test_endpoints import IWG, PROTOCOLS


@pytest.mark.parametrize(
    ("reader", "value", "options", "expected"),
    [
        (read.text, "  Week 4 ", {}, "Week 4"),
        (read.code, " S01 ", {}, "S01"),
        (read.choice, " at_least\n", {"choices": tuple(LevelMatch)}, LevelMatch.AT_LEAST),
        (read.choice, "\tday ", {"choices": ("administration", "day")}, "day"),
        (read.decimal, " 29.9 ", {}, Decimal("29.9")),
        (read.decimal, 0.1, {}, Decimal("0.1")),
        (read.integer, 3, {"minimum": 1}, 3),
        (read.date, " 2025-01-09 ", {}, dt.date(2025, 1, 9)),
        (read.boolean, False, {}, False),
    ],
)
def test_a_reader_returns_the_value_in_its_type_without_surrounding_whitespace(
    reader, value, options, expected
) -> None:
    assert reader(value, "x.y", **options) == expected


ONCE_OR_DAY = {"choices": ("once", "day")}


@pytest.mark.parametrize(
    ("reader", "value", "options", "message"),
    [
        (read.text, "   ", {}, "must be a non-empty text"),
        (read.text, 3, {}, "must be a non-empty text"),
        (read.code, "1st", {}, "must start with a letter and hold only letters, digits and _"),
        (read.choice, "daily", ONCE_OR_DAY, "must be one of once, day, not 'daily'"),
        (read.decimal, "29,9", {}, "must be a number, not '29,9'"),
        (read.decimal, "NaN", {}, "must be a finite number, not 'NaN'"),
        (read.decimal, True, {}, "must be a number, not True"),
        (read.decimal, "-1", {"minimum": 0}, "must be at least 0, not -1"),
        (read.integer, "3", {}, "must be a whole number, not '3'"),
        (read.integer, 0, {"minimum": 1}, "must be at least 1, not 0"),
        (read.date, "9/1/2025", {}, "must be a date (YYYY-MM-DD)"),
        (read.boolean, "yes", {}, "must be true or false, not 'yes'"),
        (read.mapping, [], {}, "must be a mapping, not list"),
    ],
)  # fmt: skip
def test_a_reader_names_the_key_path_and_what_it_expected(reader, value, options, message):
    with pytest.raises(DomainError) as error:
        reader(value, "versions.0.x", **options)
    assert (error.value.field, error.value.message) == ("versions.0.x", message)


def test_keys_are_checked_with_their_path() -> None:
    with pytest.raises(DomainError) as error:
        read.check_keys({"code": "A", "nmae": "x"}, {"code": True, "name": True}, "sites.0")
    assert (error.value.field, error.value.message) == (
        "sites.0.nmae",
        "unknown key (allowed: code, name)",
    )
    with pytest.raises(DomainError) as error:
        read.check_keys({"code": "A", "name": "  "}, {"code": True, "name": True}, "sites.0")
    assert (error.value.field, error.value.message) == ("sites.0.name", "is required")


def test_the_endpoint_parser_strips_level_codes_and_choices() -> None:
    endpoint = {
        "code": "r",
        "kind": " best_response ",
        "level": " R ",
        "match": "exactly ",
        "time_point": {"day": 180},
    }
    (spec,) = build_endpoint_specs(IWG, [endpoint])
    assert (spec.kind, spec.level, spec.match) == ("best_response", "R", LevelMatch.EXACTLY)


def test_an_eligibility_rule_is_evaluated_as_read_whitespace_and_case_aside() -> None:
    rule = {"test_code": " plat", "op": " < ", "value": " 30 ", "unit": " 10^9/L "}
    assert read_rule(rule) == {
        "test_code": "PLAT",
        "op": "<",
        "unit": "10^9/L",
        "value": Decimal(30),
    }
    criterion = Criterion("plt", CriterionKind.INCLUSION, "PLT < 30", rule)
    outcome = evaluate_eligibility([criterion], PatientFacts(age_years=40, sex="F", ecog=0))
    assert (outcome.results[0].met, outcome.results[0].detail) == (None, "no PLAT result recorded")


def test_a_field_rule_text_value_is_stripped() -> None:
    rule = {"field": "sex", "op": "==", "value": " F "}
    criterion = Criterion("sex", CriterionKind.INCLUSION, "female", rule)
    outcome = evaluate_eligibility([criterion], PatientFacts(age_years=40, sex="F", ecog=0))
    assert (outcome.results[0].met, outcome.results[0].detail) == (True, "sex F: is F")


def test_the_protocol_parser_strips_texts_and_codes() -> None:
    import yaml

    document = yaml.safe_load((PROTOCOLS / "NCT05471050.yaml").read_text())
    document["title"] = f"  {document['title']}  "
    document["sites"][0]["code"] = f" {document['sites'][0]['code']} "
    spec = resolve_protocol(document)
    assert spec.study["title"] == document["title"].strip()
    assert spec.sites[0]["code"] == document["sites"][0]["code"].strip()
