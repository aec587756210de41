"""Dose planning: body surface area, weight/BSA-based doses, steroid tapers, trough titration,
and the comparison of doses given with doses planned.

Every number that is a clinical choice (dose per kg, rounding step, taper steps, trough target)
is a parameter taken from the protocol; the functions only hold the arithmetic. Rounding is
always half up (ROUND_HALF_UP) to the nearest multiple of the rounding step, and every result
keeps the unrounded value next to the rounded one so the record shows what was decided and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import pairwise

from ecrf.domain.errors import DomainError
from ecrf.domain.units import as_decimal, format_decimal, round_half_up

BSA_PLACES = 3
COMPUTED_DOSE_PLACES = 4
TITRATION_COMPUTED_PLACES = 3
DEVIATION_PERCENT_PLACES = 1
DAYS_PER_WEEK = 7


# --- Shared helpers ---------------------------------------------------------------------------


def _positive(value: object, field: str) -> Decimal:
    number = as_decimal(value, field)
    if number <= 0:
        raise DomainError(field, f"must be positive, got {format_decimal(number)}")
    return number


def _round_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Nearest multiple of ``step``, halves rounded up; shown with the step's decimals."""
    multiples = (value / step).to_integral_value(rounding=ROUND_HALF_UP)
    return _as_step_multiple(multiples, step)


def _as_step_multiple(multiples: Decimal, step: Decimal) -> Decimal:
    """``multiples × step`` written with the step's decimals (0.5 mg steps: ``3.0``)."""
    places = max(-step.normalize().as_tuple().exponent, 0)
    return (multiples * step).quantize(Decimal(1).scaleb(-places))


def _is_multiple(value: Decimal, step: Decimal) -> bool:
    return (value % step).is_zero()


def _mg(value: Decimal) -> str:
    return f"{format_decimal(value)} mg"


# --- Body surface area ------------------------------------------------------------------------


class BsaFormula(StrEnum):
    MOSTELLER = "mosteller"
    DUBOIS = "dubois"


def bsa_mosteller(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    """√(height cm × weight kg ÷ 3600) in m², rounded half up to 3 decimals."""
    height = _positive(height_cm, "height_cm")
    weight = _positive(weight_kg, "weight_kg")
    return round_half_up((height * weight / 3600).sqrt(), BSA_PLACES)


def bsa_dubois(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    """0.007184 × weight kg^0.425 × height cm^0.725 in m², rounded half up to 3 decimals."""
    height = _positive(height_cm, "height_cm")
    weight = _positive(weight_kg, "weight_kg")
    bsa = Decimal("0.007184") * weight ** Decimal("0.425") * height ** Decimal("0.725")
    return round_half_up(bsa, BSA_PLACES)


_BSA_FORMULAS: Mapping[BsaFormula, Callable[[Decimal, Decimal], Decimal]] = {
    BsaFormula.MOSTELLER: bsa_mosteller,
    BsaFormula.DUBOIS: bsa_dubois,
}


# --- Planned dose -----------------------------------------------------------------------------


class DoseBasis(StrEnum):
    FIXED = "fixed"
    MG_PER_KG = "mg_per_kg"
    MG_PER_M2 = "mg_per_m2"


@dataclass(frozen=True)
class PlannedDose:
    computed_mg: Decimal
    rounded_mg: Decimal
    bsa_m2: Decimal | None
    rule: str
    # For a per-day dose given in several administrations: the rounded dose of each one.
    per_administration_mg: Decimal | None = None


def _enum_value(enum: type[StrEnum], value: object, field: str) -> StrEnum:
    try:
        return enum(value)
    except ValueError:
        expected = ", ".join(member.value for member in enum)
        raise DomainError(field, f"unknown value {value!r} (expected {expected})") from None


def _required(value: object, field: str, basis: DoseBasis) -> Decimal:
    if value is None:
        raise DomainError(field, f"is required for a {basis.value} dose")
    return _positive(value, field)


def plan_dose(
    basis: DoseBasis | str,
    amount: Decimal,
    *,
    weight_kg: Decimal | None = None,
    height_cm: Decimal | None = None,
    bsa_formula: BsaFormula | str = BsaFormula.MOSTELLER,
    rounding_step_mg: Decimal | None = None,
    administrations_per_day: int | None = None,
) -> PlannedDose:
    """The dose for one patient, kept both as computed and as rounded to the dosage form.

    Rounding: to the nearest multiple of ``rounding_step_mg``, halves up, and never below one
    step (a positive dose is not rounded away to nothing). Without a step the rounded dose is the
    computed dose. A daily dose split into ``administrations_per_day`` (> 1) administrations is
    rounded per administration, because each one must be made of the dosage form: 1.5 mg/day bid
    is 0.75 mg per administration, which 0.5 mg capsules cannot make; rounded to 1.0 mg, the day
    is 2.0 mg. ``rounded_mg`` is then the daily dose those administrations add up to.
    """
    basis = _enum_value(DoseBasis, basis, "basis")
    amount = _positive(amount, "amount")
    bsa_m2: Decimal | None = None
    if basis is DoseBasis.FIXED:
        computed = amount
        derivation = f"fixed {_mg(amount)}"
    elif basis is DoseBasis.MG_PER_KG:
        weight = _required(weight_kg, "weight_kg", basis)
        computed = amount * weight
        derivation = f"{format_decimal(amount)} mg/kg × {format_decimal(weight)} kg"
    else:
        formula = _enum_value(BsaFormula, bsa_formula, "bsa_formula")
        height = _required(height_cm, "height_cm", basis)
        weight = _required(weight_kg, "weight_kg", basis)
        bsa_m2 = _BSA_FORMULAS[formula](height, weight)
        computed = amount * bsa_m2
        derivation = (
            f"{format_decimal(amount)} mg/m² × {format_decimal(bsa_m2)} m² "
            f"({formula.name.capitalize()}: {format_decimal(height)} cm, "
            f"{format_decimal(weight)} kg)"
        )
    computed = round_half_up(computed, COMPUTED_DOSE_PLACES)
    if administrations_per_day is not None and administrations_per_day > 1:
        return _split_daily_dose(
            computed, administrations_per_day, rounding_step_mg, bsa_m2, derivation
        )
    rounded, rounding_rule = _round_dose(computed, rounding_step_mg)
    return PlannedDose(
        computed, rounded, bsa_m2, f"{derivation} = {_mg(computed)}; {rounding_rule}"
    )


def _split_daily_dose(
    daily: Decimal,
    per_day: int,
    rounding_step_mg: Decimal | None,
    bsa_m2: Decimal | None,
    derivation: str,
) -> PlannedDose:
    each = round_half_up(daily / per_day, COMPUTED_DOSE_PLACES)
    rounded_each, rounding_rule = _round_dose(each, rounding_step_mg)
    total = rounded_each * per_day
    rule = (
        f"{derivation} = {_mg(daily)}/day; ÷ {per_day} administrations = {_mg(each)} each; "
        f"{rounding_rule} per administration; × {per_day} = {_mg(total)}/day"
    )
    return PlannedDose(daily, total, bsa_m2, rule, per_administration_mg=rounded_each)


def _round_dose(computed: Decimal, rounding_step_mg: Decimal | None) -> tuple[Decimal, str]:
    if rounding_step_mg is None:
        return computed, "not rounded"
    step = _positive(rounding_step_mg, "rounding_step_mg")
    rounded = max(_round_to_step(computed, step), _as_step_multiple(Decimal(1), step))
    rule = f"rounded half up to the nearest {_mg(step)} (at least one step) = {_mg(rounded)}"
    return rounded, rule


# --- Taper ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaperStep:
    """While the daily dose is above ``above_mg``, it comes down by ``decrement_mg``."""

    above_mg: Decimal
    decrement_mg: Decimal


@dataclass(frozen=True)
class TaperWeek:
    week: int
    daily_mg: Decimal


def _taper_step(item: object, field: str) -> TaperStep:
    if isinstance(item, TaperStep):
        above, decrement = item.above_mg, item.decrement_mg
    elif isinstance(item, Mapping):
        above, decrement = item.get("above_mg"), item.get("decrement_mg")
    elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
        above, decrement = item
    else:
        raise DomainError(field, "must be a TaperStep, {above_mg, decrement_mg} or a pair")
    above = as_decimal(above, f"{field}.above_mg")
    if above < 0:
        raise DomainError(f"{field}.above_mg", "must not be negative")
    return TaperStep(above, _positive(decrement, f"{field}.decrement_mg"))


def _taper_steps(
    step_table: Sequence[object], target: Decimal, rounding: Decimal
) -> list[TaperStep]:
    if not step_table:
        raise DomainError("step_table", "must list at least one step")
    steps = [_taper_step(item, f"step_table.{index}") for index, item in enumerate(step_table)]
    for index, step in enumerate(steps):
        if not _is_multiple(step.decrement_mg, rounding):
            raise DomainError(
                f"step_table.{index}.decrement_mg",
                f"{_mg(step.decrement_mg)} is not a multiple of the rounding {_mg(rounding)}",
            )
    if min(step.above_mg for step in steps) >= target:
        raise DomainError(
            "step_table",
            f"needs a step for doses just above the target {_mg(target)} "
            "(one with above_mg below the target)",
        )
    return sorted(steps, key=lambda step: step.above_mg, reverse=True)


def _next_rung(current: Decimal, steps: list[TaperStep], target: Decimal) -> Decimal:
    """One step down the ladder: to the largest multiple of the decrement below ``current``.

    Snapping to multiples (62.5 → 60 → 50, not 52.5) keeps the ladder on round doses, and going
    strictly below ``current`` guarantees progress; the target is never overshot.
    """
    decrement = next(step.decrement_mg for step in steps if current > step.above_mg)
    multiples_below = (current / decrement).to_integral_value(rounding=ROUND_CEILING) - 1
    return max(multiples_below * decrement, target)


def _taper_ladder(start: Decimal, target: Decimal, steps: list[TaperStep]) -> list[Decimal]:
    """The doses after ``start`` that the step table gives, ending with the target."""
    ladder: list[Decimal] = []
    current = start
    while current > target:
        current = _next_rung(current, steps, target)
        ladder.append(current)
    return ladder or [target]


def _fit_to_weeks(ladder: list[Decimal], weeks: int) -> list[Decimal]:
    """Stretch or compress the ladder to exactly ``weeks`` weekly doses, ending on the target."""
    if len(ladder) > weeks:
        return _skip_high_rungs(ladder, weeks)
    return _hold_low_rungs(ladder, weeks)


def _skip_high_rungs(ladder: list[Decimal], weeks: int) -> list[Decimal]:
    """Skip every other rung from the top, pass after pass, until the ladder fits.

    High rungs go first because there a step is the smallest fraction of the dose; alternating
    keeps the skipped steps spread out (100 kg: 100 → 80 → 60 → 40 → 25 → 20 → 15 → 10 → 7.5).
    """
    rungs = list(ladder)
    while len(rungs) > weeks:
        above_target = range(0, len(rungs) - 1, 2)
        skipped = set(above_target[: len(rungs) - weeks])
        rungs = [dose for index, dose in enumerate(rungs) if index not in skipped]
    return rungs


def _hold_low_rungs(ladder: list[Decimal], weeks: int) -> list[Decimal]:
    """The target takes the last week; the other weeks are shared out over the rungs above it,
    the rungs nearest the target getting the extra weeks (the taper slows down at low doses)."""
    *above_target, target = ladder
    if not above_target:
        return [target] * weeks
    weeks_above = weeks - 1
    weeks_per_rung = [weeks_above // len(above_target)] * len(above_target)
    for offset in range(weeks_above % len(above_target)):
        weeks_per_rung[-1 - offset] += 1
    held = [
        dose for dose, hold in zip(above_target, weeks_per_rung, strict=True) for _ in range(hold)
    ]
    return [*held, target]


def generate_taper(
    start_daily_mg: Decimal,
    target_daily_mg: Decimal,
    *,
    full_dose_weeks: int,
    taper_weeks: int,
    step_table: Sequence[TaperStep | tuple[Decimal, Decimal] | Mapping[str, Decimal]],
    rounding_mg: Decimal,
) -> list[TaperWeek]:
    """Weekly doses: ``full_dose_weeks`` at the start dose, then ``taper_weeks`` down to target.

    Algorithm:
    1. The start dose is rounded half up to a multiple of ``rounding_mg`` (the tablet strength).
    2. A *ladder* is walked down from the start with the protocol's step table, a list of
       (above_mg, decrement_mg): while the dose is above ``above_mg`` it drops to the largest
       multiple of that decrement below it (e.g. 10 mg steps above 30, 5 mg down to 10, then 2.5),
       stopping at the target.
    3. The ladder is fitted to ``taper_weeks``: when it is longer, every other rung is skipped
       from the top down (``_skip_high_rungs``); when shorter, rungs are held for more than a
       week, the lowest ones first, and the target only in the last week (``_hold_low_rungs``).

    At 60 kg with 1 mg/kg, the conventional table and 8 taper weeks the ladder is exactly
    50, 40, 30, 25, 20, 15, 10, 7.5. For any start the schedule is non-increasing, every dose is a
    multiple of ``rounding_mg`` and the last week is the target.
    """
    rounding = _positive(rounding_mg, "rounding_mg")
    target = _positive(target_daily_mg, "target_daily_mg")
    if not _is_multiple(target, rounding):
        raise DomainError(
            "target_daily_mg", f"{_mg(target)} is not a multiple of the rounding {_mg(rounding)}"
        )
    start = _round_to_step(_positive(start_daily_mg, "start_daily_mg"), rounding)
    if start < target:
        raise DomainError("start_daily_mg", f"{_mg(start)} is below the taper target {_mg(target)}")
    if isinstance(full_dose_weeks, bool) or not isinstance(full_dose_weeks, int):
        raise DomainError("full_dose_weeks", "must be a whole number of weeks")
    if full_dose_weeks < 0:
        raise DomainError("full_dose_weeks", "must not be negative")
    if isinstance(taper_weeks, bool) or not isinstance(taper_weeks, int) or taper_weeks < 1:
        raise DomainError("taper_weeks", "must be a whole number of weeks, at least 1")
    steps = _taper_steps(step_table, target, rounding)
    doses = [start] * full_dose_weeks + _fit_to_weeks(
        _taper_ladder(start, target, steps), taper_weeks
    )
    return [TaperWeek(week, round_half_up(dose)) for week, dose in enumerate(doses, start=1)]


# --- Trough titration -------------------------------------------------------------------------


class TitrationAction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    MAINTAIN = "maintain"


@dataclass(frozen=True)
class TitrationProposal:
    action: TitrationAction
    proposed_daily_mg: Decimal
    computed_daily_mg: Decimal
    arithmetic: str


def _at_least_one_decimal(value: Decimal) -> str:
    return format_decimal(value.quantize(Decimal("0.1")) if value == value.to_integral() else value)


def propose_trough_titration(
    current_daily_mg: Decimal,
    trough_ng_ml: Decimal,
    target_low: Decimal,
    target_high: Decimal,
    *,
    rounding_mg: Decimal = Decimal("0.5"),
    min_daily_mg: Decimal | None = None,
    max_daily_mg: Decimal | None = None,
) -> TitrationProposal:
    """Decision support for a trough-guided dose change; the investigator decides.

    Within [target_low, target_high] (inclusive) the dose is maintained. Otherwise
    new ≈ current × (mid-range ÷ measured), rounded half up to ``rounding_mg``, and at least one
    step in the direction of the target (a trough just outside the range still moves the dose).
    The result is kept within [min_daily_mg, max_daily_mg]; ``min_daily_mg`` defaults to one
    rounding step. A limit never turns a decrease into an increase or vice versa.
    """
    current = _positive(current_daily_mg, "current_daily_mg")
    trough = _positive(trough_ng_ml, "trough_ng_ml")
    low = _positive(target_low, "target_low")
    high = _positive(target_high, "target_high")
    if low > high:
        raise DomainError("target_high", "must not be below target_low")
    step = _positive(rounding_mg, "rounding_mg")
    minimum = step if min_daily_mg is None else _positive(min_daily_mg, "min_daily_mg")
    maximum = None if max_daily_mg is None else _positive(max_daily_mg, "max_daily_mg")
    if maximum is not None and maximum < minimum:
        raise DomainError("max_daily_mg", "must not be below min_daily_mg")

    if low <= trough <= high:
        shown = f"{format_decimal(current)} mg/day"
        return TitrationProposal(
            TitrationAction.MAINTAIN,
            current,
            current,
            f"trough {format_decimal(trough)} ng/mL within target {format_decimal(low)}–"
            f"{format_decimal(high)} ng/mL: maintain {shown}",
        )

    mid = (low + high) / 2
    computed = round_half_up(current * mid / trough, TITRATION_COMPUTED_PLACES)
    increasing = trough < low
    proposed, notes = _step_towards_target(current, computed, step, increasing)
    proposed, limit_note = _within_limits(proposed, current, minimum, maximum, increasing)
    notes += limit_note
    action = _action(current, proposed)
    arithmetic = (
        f"{_in_step_places(current, step)} mg/day × ({_at_least_one_decimal(mid)} ÷ "
        f"{format_decimal(trough)} ng/mL) = {computed:.{TITRATION_COMPUTED_PLACES}f} → "
        f"{_in_step_places(proposed, step)} mg/day{''.join(notes)}"
    )
    return TitrationProposal(action, proposed, computed, arithmetic)


def _action(current: Decimal, proposed: Decimal) -> TitrationAction:
    if proposed > current:
        return TitrationAction.INCREASE
    if proposed < current:
        return TitrationAction.DECREASE
    return TitrationAction.MAINTAIN


def _in_step_places(value: Decimal, step: Decimal) -> str:
    places = max(-step.normalize().as_tuple().exponent, 0)
    return f"{value:.{places}f}"


def _step_towards_target(
    current: Decimal, computed: Decimal, step: Decimal, increasing: bool
) -> tuple[Decimal, list[str]]:
    rounded = _round_to_step(computed, step)
    if increasing:
        one_step = _as_step_multiple((current / step).to_integral_value(ROUND_FLOOR) + 1, step)
        if rounded >= one_step:
            return rounded, []
        return one_step, [f" (at least one {_mg(step)} step up)"]
    one_step = _as_step_multiple((current / step).to_integral_value(ROUND_CEILING) - 1, step)
    if rounded <= one_step:
        return rounded, []
    return one_step, [f" (at least one {_mg(step)} step down)"]


def _within_limits(
    proposed: Decimal,
    current: Decimal,
    minimum: Decimal,
    maximum: Decimal | None,
    increasing: bool,
) -> tuple[Decimal, list[str]]:
    if maximum is not None and proposed > maximum:
        limited, limit = maximum, f"the maximum {_mg(maximum)}/day"
        note = f"; capped at {limit}"
    elif proposed < minimum:
        limited, limit = minimum, f"the minimum {_mg(minimum)}/day"
        note = f"; raised to {limit}"
    else:
        return proposed, []
    # A current dose already beyond a limit is not moved the wrong way by the limit.
    if (increasing and limited < current) or (not increasing and limited > current):
        return current, [f"; kept: the current dose is already beyond {limit}"]
    return limited, [note]


# --- Doses given ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoseRecord:
    """A period of a constant daily dose; ``given=False`` records a hold (counts zero).

    ``end`` is inclusive; an open record (``end=None``) runs to the date of evaluation.
    """

    start: date
    end: date | None
    daily_mg: Decimal
    given: bool


def _validated_records(records: Sequence[DoseRecord]) -> list[DoseRecord]:
    for index, record in enumerate(records):
        if record.end is not None and record.end < record.start:
            raise DomainError(f"records.{index}.end", "is before the start of the record")
        if as_decimal(record.daily_mg, f"records.{index}.daily_mg") < 0:
            raise DomainError(f"records.{index}.daily_mg", "must not be negative")
    ordered = sorted(enumerate(records), key=lambda item: item[1].start)
    for (_, earlier), (index, later) in pairwise(ordered):
        if earlier.end is None or earlier.end >= later.start:
            raise DomainError(
                f"records.{index}.start",
                f"{later.start.isoformat()} overlaps the record starting "
                f"{earlier.start.isoformat()} (one record per day: close the earlier one first)",
            )
    return list(records)


def _dose_in_window(records: Sequence[DoseRecord], first: date, last: date) -> Decimal:
    """Total mg given on days first..last (inclusive)."""
    total = Decimal(0)
    for record in records:
        if not record.given:
            continue
        start = max(record.start, first)
        end = min(record.end or last, last)
        if end >= start:
            total += record.daily_mg * ((end - start).days + 1)
    return total


def cumulative_dose(records: Sequence[DoseRecord], *, until: date) -> Decimal:
    """Total mg given up to and including ``until``; overlapping records are a DomainError."""
    records = _validated_records(records)
    if not records:
        return Decimal(0)
    first = min(record.start for record in records)
    return round_half_up(_dose_in_window(records, first, until), COMPUTED_DOSE_PLACES)


@dataclass(frozen=True)
class WeekDeviation:
    week: int
    start: date
    end: date
    planned_mg: Decimal
    actual_mg: Decimal
    deviation_percent: Decimal | None  # (actual − planned) ÷ planned × 100; None if none planned


@dataclass(frozen=True)
class DoseDeviation:
    weeks: tuple[WeekDeviation, ...]
    planned_mg: Decimal
    actual_mg: Decimal
    deviation_percent: Decimal | None


def _deviation_percent(planned: Decimal, actual: Decimal) -> Decimal | None:
    if planned.is_zero():
        return None
    return round_half_up((actual - planned) / planned * 100, DEVIATION_PERCENT_PLACES)


def _planned_daily_by_week(
    planned: Sequence[TaperWeek] | Decimal, day1: date, until: date
) -> list[tuple[int, Decimal]]:
    if isinstance(planned, Decimal | int | str):
        daily = as_decimal(planned, "planned")
        weeks = (until - day1).days // DAYS_PER_WEEK + 1
        return [(week, daily) for week in range(1, weeks + 1)]
    return [(item.week, item.daily_mg) for item in planned]


def dose_deviation(
    planned: Sequence[TaperWeek] | Decimal,
    records: Sequence[DoseRecord],
    *,
    day1: date,
    until: date,
) -> DoseDeviation:
    """Planned against given, week by week from ``day1`` up to ``until`` (inclusive).

    ``planned`` is a weekly schedule (from ``generate_taper``) or one constant daily dose. Week n
    covers days day1 + 7(n−1) … day1 + 7n − 1; a week cut by ``until`` is compared over the days
    it has so far, and weeks starting after ``until`` are left out.
    """
    if until < day1:
        raise DomainError("until", "is before day1")
    records = _validated_records(records)
    rows: list[WeekDeviation] = []
    for week, daily_mg in _planned_daily_by_week(planned, day1, until):
        start = day1 + timedelta(days=DAYS_PER_WEEK * (week - 1))
        if start > until:
            continue
        end = min(start + timedelta(days=DAYS_PER_WEEK - 1), until)
        planned_mg = round_half_up(daily_mg * ((end - start).days + 1), COMPUTED_DOSE_PLACES)
        actual_mg = round_half_up(_dose_in_window(records, start, end), COMPUTED_DOSE_PLACES)
        rows.append(
            WeekDeviation(
                week, start, end, planned_mg, actual_mg, _deviation_percent(planned_mg, actual_mg)
            )
        )
    planned_total = sum((row.planned_mg for row in rows), Decimal(0))
    actual_total = sum((row.actual_mg for row in rows), Decimal(0))
    return DoseDeviation(
        tuple(rows), planned_total, actual_total, _deviation_percent(planned_total, actual_total)
    )
