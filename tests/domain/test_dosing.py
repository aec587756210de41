from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecrf.domain.dosing import (
    DoseRecord,
    PlannedDose,
    TaperStep,
    TaperWeek,
    TitrationAction,
    bsa_dubois,
    bsa_mosteller,
    cumulative_dose,
    dose_deviation,
    generate_taper,
    plan_dose,
    propose_trough_titration,
)
from ecrf.domain.errors import DomainError

D = Decimal

# Prednisolone taper parameters as a protocol file would give them (clinical.md, Dosing).
CONVENTIONAL_STEPS = [
    TaperStep(D(30), D(10)),  # above 30 mg: 10 mg steps
    TaperStep(D(10), D(5)),  # 10–30 mg: 5 mg steps
    TaperStep(D(0), D("2.5")),  # below 10 mg: 2.5 mg steps
]
PREDNISOLONE = {
    "full_dose_weeks": 4,
    "taper_weeks": 8,
    "step_table": CONVENTIONAL_STEPS,
    "rounding_mg": D("2.5"),
}
TARGET = D("7.5")


def daily_doses(schedule: list[TaperWeek]) -> list[str]:
    return [str(week.daily_mg) for week in schedule]


# --- BSA --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "mosteller", "dubois"),
    [
        ("170", "65", "1.752", "1.754"),
        ("160", "50", "1.491", "1.501"),
        ("180", "80", "2.000", "1.996"),
    ],
)
def test_bsa(height_cm, weight_kg, mosteller, dubois):
    assert bsa_mosteller(D(height_cm), D(weight_kg)) == D(mosteller)
    assert bsa_dubois(D(height_cm), D(weight_kg)) == D(dubois)


@pytest.mark.parametrize("formula", [bsa_mosteller, bsa_dubois])
@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "field"),
    [("0", "65", "height_cm"), ("170", "-1", "weight_kg"), ("170", None, "weight_kg")],
)
def test_bsa_rejects_non_positive_measurements(formula, height_cm, weight_kg, field):
    with pytest.raises(DomainError) as raised:
        formula(D(height_cm), None if weight_kg is None else D(weight_kg))
    assert raised.value.field == field


# --- plan_dose --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("basis", "amount", "kwargs", "computed", "rounded", "bsa"),
    [
        # ATRA 20 mg/m², 10 mg capsules.
        ("mg_per_m2", "20", {"height_cm": "170", "weight_kg": "65", "step": "10"}, "35.04", "40",
         "1.752"),
        ("mg_per_m2", "20", {"height_cm": "160", "weight_kg": "50", "step": "10"}, "29.82", "30",
         "1.491"),
        ("mg_per_m2", "20", {"height_cm": "160", "weight_kg": "50", "step": "10",
                             "bsa_formula": "dubois"}, "30.02", "30", "1.501"),
        # Tacrolimus 0.03 mg/kg/day, 0.5 mg steps.
        ("mg_per_kg", "0.03", {"weight_kg": "60", "step": "0.5"}, "1.8", "2.0", None),
        ("mg_per_kg", "0.03", {"weight_kg": "75", "step": "0.5"}, "2.25", "2.5", None),  # half up
        ("mg_per_kg", "0.03", {"weight_kg": "70", "step": "0.5"}, "2.1", "2.0", None),
        # Prednisolone 1 mg/kg, 2.5 mg steps, no rounding.
        ("mg_per_kg", "1", {"weight_kg": "63", "step": "2.5"}, "63", "62.5", None),
        ("mg_per_kg", "1", {"weight_kg": "63.5"}, "63.5", "63.5", None),
        # A positive dose never rounds to nothing.
        ("mg_per_kg", "0.01", {"weight_kg": "10", "step": "0.5"}, "0.1", "0.5", None),
        # Rituximab 100 mg fixed.
        ("fixed", "100", {}, "100", "100", None),
    ],
)  # fmt: skip
def test_plan_dose(basis, amount, kwargs, computed, rounded, bsa):
    options = {
        "weight_kg": D(kwargs["weight_kg"]) if "weight_kg" in kwargs else None,
        "height_cm": D(kwargs["height_cm"]) if "height_cm" in kwargs else None,
        "rounding_step_mg": D(kwargs["step"]) if "step" in kwargs else None,
        "bsa_formula": kwargs.get("bsa_formula", "mosteller"),
    }
    dose = plan_dose(basis, D(amount), **options)
    assert dose.computed_mg == D(computed)
    assert dose.rounded_mg == D(rounded)
    assert dose.bsa_m2 == (None if bsa is None else D(bsa))


def test_plan_dose_states_the_rule():
    assert plan_dose(
        "mg_per_m2", D(20), height_cm=D(170), weight_kg=D(65), rounding_step_mg=D(10)
    ) == PlannedDose(
        computed_mg=D("35.04"),
        rounded_mg=D(40),
        bsa_m2=D("1.752"),
        rule="20 mg/m² × 1.752 m² (Mosteller: 170 cm, 65 kg) = 35.04 mg; "
        "rounded half up to the nearest 10 mg (at least one step) = 40 mg",
    )
    assert plan_dose("mg_per_kg", D("0.03"), weight_kg=D(60), rounding_step_mg=D("0.5")).rule == (
        "0.03 mg/kg × 60 kg = 1.8 mg; rounded half up to the nearest 0.5 mg (at least one step) "
        "= 2.0 mg"
    )
    assert plan_dose("fixed", D(100)).rule == "fixed 100 mg = 100 mg; not rounded"


def test_a_split_daily_dose_is_rounded_per_administration():
    dose = plan_dose(
        "mg_per_kg",
        D("0.03"),
        weight_kg=D(50),
        rounding_step_mg=D("0.5"),
        administrations_per_day=2,
    )
    assert (dose.computed_mg, dose.per_administration_mg, dose.rounded_mg) == (
        D("1.5"),
        D("1.0"),
        D("2.0"),
    )
    assert dose.rule == (
        "0.03 mg/kg × 50 kg = 1.5 mg/day; ÷ 2 administrations = 0.75 mg each; rounded half up to "
        "the nearest 0.5 mg (at least one step) = 1.0 mg per administration; × 2 = 2.0 mg/day"
    )


@pytest.mark.parametrize(
    ("basis", "kwargs", "field"),
    [
        ("per_patient", {}, "basis"),
        ("mg_per_kg", {}, "weight_kg"),
        ("mg_per_m2", {"weight_kg": D(60)}, "height_cm"),
        ("mg_per_m2", {"height_cm": D(170)}, "weight_kg"),
        ("mg_per_m2", {"height_cm": D(170), "weight_kg": D(60), "bsa_formula": "haycock"},
         "bsa_formula"),
        ("mg_per_kg", {"weight_kg": D(0)}, "weight_kg"),
        ("fixed", {"rounding_step_mg": D(0)}, "rounding_step_mg"),
    ],
)  # fmt: skip
def test_plan_dose_errors(basis, kwargs, field):
    with pytest.raises(DomainError) as raised:
        plan_dose(basis, D(1), **kwargs)
    assert raised.value.field == field


def test_plan_dose_rejects_non_positive_amount():
    with pytest.raises(DomainError) as raised:
        plan_dose("fixed", D(0))
    assert raised.value.field == "amount"


# --- Taper ------------------------------------------------------------------------------------


def test_prednisolone_taper_at_60_kg_matches_the_protocol():
    schedule = generate_taper(D(60), TARGET, **PREDNISOLONE)
    assert schedule == [
        TaperWeek(week, D(dose))
        for week, dose in enumerate(
            ["60", "60", "60", "60", "50", "40", "30", "25", "20", "15", "10", "7.5"], start=1
        )
    ]


@pytest.mark.parametrize(
    ("start_mg", "taper"),
    [
        # A longer ladder skips every other rung from the top.
        ("100", ["80", "60", "40", "25", "20", "15", "10", "7.5"]),
        ("150", ["110", "90", "70", "50", "30", "20", "10", "7.5"]),
        ("67", ["50", "40", "30", "25", "20", "15", "10", "7.5"]),  # start rounded to 67.5
        # A shorter ladder holds the rungs just above the target longer.
        ("45", ["40", "30", "25", "20", "15", "10", "10", "7.5"]),
        ("30", ["25", "20", "20", "15", "15", "10", "10", "7.5"]),
        ("7.5", ["7.5"] * 8),
    ],
)
def test_taper_fits_other_weights_to_eight_weeks(start_mg, taper):
    schedule = generate_taper(D(start_mg), TARGET, **PREDNISOLONE)
    assert daily_doses(schedule)[4:] == taper


def test_taper_rounds_the_start_dose_half_up_to_the_tablet():
    schedule = generate_taper(D("63.75"), TARGET, **PREDNISOLONE)
    assert daily_doses(schedule)[:4] == ["65"] * 4


def test_taper_accepts_the_step_table_as_plain_protocol_data():
    as_pairs = [(30, 10), (10, 5), (0, D("2.5"))]
    as_mappings = [{"above_mg": 30, "decrement_mg": 10}, {"above_mg": 10, "decrement_mg": 5},
                   {"above_mg": 0, "decrement_mg": 2.5}]  # fmt: skip
    expected = generate_taper(D(60), TARGET, **PREDNISOLONE)
    for table in (as_pairs, as_mappings):
        assert generate_taper(D(60), TARGET, **{**PREDNISOLONE, "step_table": table}) == expected


@given(
    weight_kg=st.decimals(min_value=30, max_value=150, places=1),
    taper_weeks=st.integers(min_value=1, max_value=16),
)
def test_taper_properties_for_any_weight(weight_kg, taper_weeks):
    schedule = generate_taper(weight_kg, TARGET, **{**PREDNISOLONE, "taper_weeks": taper_weeks})
    doses = [week.daily_mg for week in schedule]
    assert [week.week for week in schedule] == list(range(1, 4 + taper_weeks + 1))
    assert all(later <= earlier for earlier, later in pairwise(doses))
    assert doses[-1] == TARGET
    assert all(dose % D("2.5") == 0 for dose in doses)
    assert len(set(doses[:4])) == 1
    if taper_weeks > 1:
        assert doses[-2] > TARGET  # the target is reached in the last week, not before


@pytest.mark.parametrize(
    ("start", "target", "overrides", "field"),
    [
        ("5", "7.5", {}, "start_daily_mg"),
        ("60", "7", {}, "target_daily_mg"),
        ("60", "7.5", {"taper_weeks": 0}, "taper_weeks"),
        ("60", "7.5", {"full_dose_weeks": -1}, "full_dose_weeks"),
        ("60", "7.5", {"rounding_mg": D(0)}, "rounding_mg"),
        ("60", "7.5", {"step_table": []}, "step_table"),
        ("60", "7.5", {"step_table": [TaperStep(D(10), D(5))]}, "step_table"),
        ("60", "7.5", {"step_table": [TaperStep(D(0), D(3))]}, "step_table.0.decrement_mg"),
        ("60", "7.5", {"step_table": [(0, 0)]}, "step_table.0.decrement_mg"),
        ("60", "7.5", {"step_table": ["10 mg"]}, "step_table.0"),
    ],
)
def test_taper_errors(start, target, overrides, field):
    with pytest.raises(DomainError) as raised:
        generate_taper(D(start), D(target), **{**PREDNISOLONE, **overrides})
    assert raised.value.field == field


# --- Trough titration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "trough", "low", "high", "options", "action", "proposed", "computed", "arithmetic"),
    [
        # Below range: scale to the mid-range.
        ("1.5", "2.1", "3", "5", {}, "increase", "3.0", "2.857",
         "1.5 mg/day × (4.0 ÷ 2.1 ng/mL) = 2.857 → 3.0 mg/day"),
        # Above range.
        ("2", "5.5", "3", "5", {}, "decrease", "1.5", "1.455",
         "2.0 mg/day × (4.0 ÷ 5.5 ng/mL) = 1.455 → 1.5 mg/day"),
        ("2", "12", "3", "5", {}, "decrease", "0.5", "0.667",
         "2.0 mg/day × (4.0 ÷ 12 ng/mL) = 0.667 → 0.5 mg/day"),
        # Boundaries are within range.
        ("2", "3", "3", "5", {}, "maintain", "2", "2",
         "trough 3 ng/mL within target 3–5 ng/mL: maintain 2 mg/day"),
        ("2", "5", "3", "5", {}, "maintain", "2", "2",
         "trough 5 ng/mL within target 3–5 ng/mL: maintain 2 mg/day"),
        # Just outside: at least one step towards the target.
        ("1.0", "3.9", "4", "5", {}, "increase", "1.5", "1.154",
         "1.0 mg/day × (4.5 ÷ 3.9 ng/mL) = 1.154 → 1.5 mg/day (at least one 0.5 mg step up)"),
        ("1.0", "4.1", "3", "4", {}, "decrease", "0.5", "0.854",
         "1.0 mg/day × (3.5 ÷ 4.1 ng/mL) = 0.854 → 0.5 mg/day (at least one 0.5 mg step down)"),
        # Limits.
        ("4", "1", "3", "5", {"max_daily_mg": D(6)}, "increase", "6", "16",
         "4.0 mg/day × (4.0 ÷ 1 ng/mL) = 16.000 → 6.0 mg/day; capped at the maximum 6 mg/day"),
        ("1", "20", "3", "5", {}, "decrease", "0.5", "0.2",
         "1.0 mg/day × (4.0 ÷ 20 ng/mL) = 0.200 → 0.5 mg/day; raised to the minimum 0.5 mg/day"),
        ("0.5", "20", "3", "5", {}, "maintain", "0.5", "0.1",
         "0.5 mg/day × (4.0 ÷ 20 ng/mL) = 0.100 → 0.5 mg/day; raised to the minimum 0.5 mg/day"),
        ("8", "2", "5", "10", {"max_daily_mg": D(6)}, "maintain", "8", "30",
         "8.0 mg/day × (7.5 ÷ 2 ng/mL) = 30.000 → 8.0 mg/day; "
         "kept: the current dose is already beyond the maximum 6 mg/day"),
        # Another rounding step.
        ("2", "2", "5", "10", {"rounding_mg": D(1)}, "increase", "8", "7.5",
         "2 mg/day × (7.5 ÷ 2 ng/mL) = 7.500 → 8 mg/day"),
    ],
)  # fmt: skip
def test_trough_titration(
    current, trough, low, high, options, action, proposed, computed, arithmetic
):
    proposal = propose_trough_titration(D(current), D(trough), D(low), D(high), **options)
    assert proposal.action == TitrationAction(action)
    assert proposal.proposed_daily_mg == D(proposed)
    assert proposal.computed_daily_mg == D(computed)
    assert proposal.arithmetic == arithmetic


@pytest.mark.parametrize(
    ("args", "options", "field"),
    [
        (("2", "0", "3", "5"), {}, "trough_ng_ml"),
        (("0", "2", "3", "5"), {}, "current_daily_mg"),
        (("2", "2", "5", "3"), {}, "target_high"),
        (("2", "2", "3", "5"), {"rounding_mg": D(0)}, "rounding_mg"),
        (("2", "2", "3", "5"), {"min_daily_mg": D(2), "max_daily_mg": D(1)}, "max_daily_mg"),
    ],
)
def test_trough_titration_errors(args, options, field):
    with pytest.raises(DomainError) as raised:
        propose_trough_titration(*(D(arg) for arg in args), **options)
    assert raised.value.field == field


# --- Doses given ------------------------------------------------------------------------------


def given_dose(start: date, end: date | None, daily_mg: str) -> DoseRecord:
    return DoseRecord(start, end, D(daily_mg), given=True)


def held(start: date, end: date | None) -> DoseRecord:
    return DoseRecord(start, end, D(60), given=False)


@pytest.mark.parametrize(
    ("records", "until", "expected"),
    [
        ([], date(2024, 1, 31), "0"),
        ([given_dose(date(2024, 1, 1), date(2024, 1, 7), "60")], date(2024, 1, 31), "420"),
        ([given_dose(date(2024, 1, 1), date(2024, 1, 7), "60")], date(2024, 1, 3), "180"),
        # An open record runs to `until`, inclusive.
        ([given_dose(date(2024, 1, 1), None, "1.5")], date(2024, 1, 10), "15"),
        # Held doses count zero.
        (
            [
                given_dose(date(2024, 1, 1), date(2024, 1, 4), "60"),
                held(date(2024, 1, 5), date(2024, 1, 6)),
                given_dose(date(2024, 1, 7), None, "50"),
            ],
            date(2024, 1, 10),
            "440",
        ),
        # Records starting after `until` do not count.
        ([given_dose(date(2024, 2, 1), None, "60")], date(2024, 1, 31), "0"),
    ],
)
def test_cumulative_dose(records, until, expected):
    assert cumulative_dose(records, until=until) == D(expected)


@pytest.mark.parametrize(
    ("records", "field"),
    [
        ([given_dose(date(2024, 1, 5), date(2024, 1, 4), "60")], "records.0.end"),
        ([given_dose(date(2024, 1, 1), date(2024, 1, 4), "-1")], "records.0.daily_mg"),
        (
            [given_dose(date(2024, 1, 1), None, "60"), given_dose(date(2024, 1, 8), None, "50")],
            "records.1.start",
        ),
        (
            [given_dose(date(2024, 1, 5), None, "50"), held(date(2024, 1, 1), date(2024, 1, 5))],
            "records.0.start",
        ),
    ],
)
def test_cumulative_dose_rejects_bad_records(records, field):
    with pytest.raises(DomainError) as raised:
        cumulative_dose(records, until=date(2024, 1, 31))
    assert raised.value.field == field


def test_dose_deviation_against_a_taper():
    day1 = date(2024, 1, 1)
    plan = [TaperWeek(1, D(60)), TaperWeek(2, D(50)), TaperWeek(3, D(40))]
    records = [
        given_dose(date(2024, 1, 1), date(2024, 1, 7), "60"),
        held(date(2024, 1, 8), date(2024, 1, 9)),  # two doses missed in week 2
        given_dose(date(2024, 1, 10), date(2024, 1, 16), "50"),  # week 3 stays on 50 for 2 days
        given_dose(date(2024, 1, 17), None, "40"),
    ]
    report = dose_deviation(plan, records, day1=day1, until=date(2024, 1, 21))
    assert [
        (w.week, w.start, w.end, w.planned_mg, w.actual_mg, w.deviation_percent)
        for w in report.weeks
    ] == [
        (1, date(2024, 1, 1), date(2024, 1, 7), D(420), D(420), D(0)),
        (2, date(2024, 1, 8), date(2024, 1, 14), D(350), D(250), D("-28.6")),
        (3, date(2024, 1, 15), date(2024, 1, 21), D(280), D(300), D("7.1")),
    ]
    assert (report.planned_mg, report.actual_mg, report.deviation_percent) == (
        D(1050),
        D(970),
        D("-7.6"),
    )


def test_dose_deviation_against_a_constant_daily_dose_cuts_the_last_week_at_until():
    records = [given_dose(date(2024, 3, 1), None, "2")]
    report = dose_deviation(D("1.8"), records, day1=date(2024, 3, 1), until=date(2024, 3, 10))
    assert [(w.week, w.planned_mg, w.actual_mg, w.deviation_percent) for w in report.weeks] == [
        (1, D("12.6"), D(14), D("11.1")),
        (2, D("5.4"), D(6), D("11.1")),
    ]


def test_dose_deviation_leaves_out_weeks_after_until_and_zero_plans():
    plan = [TaperWeek(1, D(0)), TaperWeek(2, D(10))]
    report = dose_deviation(plan, [], day1=date(2024, 1, 1), until=date(2024, 1, 7))
    assert [(w.week, w.deviation_percent) for w in report.weeks] == [(1, None)]
    assert report.deviation_percent is None


def test_dose_deviation_rejects_until_before_day1():
    with pytest.raises(DomainError) as raised:
        dose_deviation(D(1), [], day1=date(2024, 1, 2), until=date(2024, 1, 1))
    assert raised.value.field == "until"
