"""Assessment of single platelet counts: level met, bleeding and rescue in their windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ecrf.domain.endpoints.course import (
    BleedingObservation,
    Observation,
    PatientCourse,
    RescueEpisode,
    VisitResponse,
)
from ecrf.domain.endpoints.criteria import parse_response_criteria
from ecrf.domain.endpoints.formatting import _fmt
from ecrf.domain.endpoints.spec import (
    _SYMBOLS,
    NON_RESPONSE,
    BleedingRule,
    EndpointSpec,
    RescueRule,
    ResponseCriteria,
    ResponseLevel,
)
from ecrf.domain.endpoints.windows import _after_day1, _baseline_observation, _cut, _data_end


def assess_visits(
    spec_or_criteria: EndpointSpec | ResponseCriteria | Mapping[str, Any], course: PatientCourse
) -> list[VisitResponse]:
    """Classify every platelet count after day 1 (up to as_of / withdrawal) with the criteria."""
    criteria = _criteria_of(spec_or_criteria)
    visible = _cut(course, _data_end(course))
    baseline = baseline_platelets(criteria, visible)
    return [
        assess_platelet_response(count, criteria, visible, baseline)
        for count in _after_day1(visible.platelets, visible.day1)
    ]


def baseline_platelets(criteria: ResponseCriteria, course: PatientCourse) -> Decimal | None:
    if course.baseline_platelets is not None:
        return course.baseline_platelets
    found = _baseline_observation(course.platelets, criteria.baseline, course.day1)
    return None if found is None else found.value


def assess_platelet_response(
    count: Observation,
    criteria: ResponseCriteria,
    course: PatientCourse,
    baseline: Decimal | None,
) -> VisitResponse:
    """Best platelet level met by the count; bleeding or rescue in their windows make it NR."""
    level, count_text = _match_platelet_level(count, criteria.platelet_levels, baseline)
    bleeding = _bleeding_at(count.date, criteria.bleeding, course)
    rescue = _rescue_before(count.date, criteria.rescue, course)
    qualifying = level is not None and bleeding is None and rescue is None
    response = level.code if qualifying and level else NON_RESPONSE
    if level is not None and not qualifying:
        count_text = f"{count_text} ({level.code} by count)"
    detail = "; ".join(
        (
            f"{response}: {count_text}",
            _bleeding_text(bleeding, criteria.bleeding),
            _rescue_text(rescue, criteria.rescue),
        )
    )
    return VisitResponse(
        date=count.date,
        platelet_count=count.value,
        response=response,
        bleeding=bleeding is not None,
        rescue=rescue is not None,
        qualifying=qualifying,
        detail=detail,
    )


def _match_platelet_level(
    count: Observation, levels: Sequence[ResponseLevel], baseline: Decimal | None
) -> tuple[ResponseLevel | None, str]:
    where = f"PLT {_fmt(count.value)} on {count.date.isoformat()}"
    for level in levels:
        met, rules_text = _platelet_rules(level, count.value, baseline)
        if met:
            return level, f"{where} {rules_text}"
    if not levels:
        return None, f"{where}: no platelet level defined"
    lowest = levels[-1]
    _, needs = _platelet_rules(lowest, count.value, baseline)
    return None, f"{where} meets no level ({lowest.code} needs {needs})"


def _platelet_rules(
    level: ResponseLevel, value: Decimal, baseline: Decimal | None
) -> tuple[bool, str]:
    rules: list[tuple[bool, str]] = []
    for threshold in (level.platelets, level.platelets_max):
        if threshold is not None:
            rules.append((threshold.holds(value), threshold.describe()))
    fold = level.fold_of_baseline
    if fold is not None:
        multiple = f"{_SYMBOLS[fold.op]} {_fmt(fold.value)}× baseline"
        if baseline is None:
            rules.append((False, f"{multiple} (no baseline count)"))
        else:
            bound = fold.value * baseline
            text = f"{multiple} {_fmt(baseline)} (={_fmt(bound)})"
            rules.append((fold.holds(value, bound), text))
    return _combine(level, rules)


def _combine(level: ResponseLevel, rules: list[tuple[bool, str]]) -> tuple[bool, str]:
    outcomes = [met for met, _ in rules]
    met = all(outcomes) if level.combine == "all" else any(outcomes)
    joiner = " and " if level.combine == "all" else " or "
    return met, joiner.join(text for _, text in rules)


def _bleeding_at(
    day: dt.date, rule: BleedingRule | None, course: PatientCourse
) -> BleedingObservation | None:
    if rule is None:
        return None
    window_start = day - dt.timedelta(days=rule.window_days)
    return next(
        (event for event in _relevant_bleeding(rule, course) if window_start <= event.date <= day),
        None,
    )


def _bleeding_between(
    after: dt.date, until: dt.date, rule: BleedingRule | None, course: PatientCourse
) -> BleedingObservation | None:
    if rule is None:
        return None
    return next(
        (event for event in _relevant_bleeding(rule, course) if after < event.date <= until),
        None,
    )


def _relevant_bleeding(rule: BleedingRule, course: PatientCourse) -> list[BleedingObservation]:
    events = [event for event in course.bleeding if event.who_grade >= rule.min_who_grade]
    return sorted(events, key=lambda event: event.date)


def _rescue_before(
    day: dt.date, rule: RescueRule | None, course: PatientCourse
) -> RescueEpisode | None:
    if rule is None:
        return None
    if rule.since_start:
        window_start = course.day1
    else:
        window_start = day - dt.timedelta(days=rule.lookback_days or 0)
    return _rescue_during(window_start, day, rule, course)


def _rescue_during(
    first_day: dt.date, last_day: dt.date, rule: RescueRule | None, course: PatientCourse
) -> RescueEpisode | None:
    """First rescue episode active on any day of [first_day, last_day]."""
    if rule is None:
        return None
    for episode in sorted(course.rescue, key=lambda episode: episode.start):
        if rule.itp_directed_only and not episode.itp_directed:
            continue
        if episode.start <= last_day and (episode.stop is None or episode.stop >= first_day):
            return episode
    return None


def _bleeding_text(event: BleedingObservation | None, rule: BleedingRule | None) -> str:
    if rule is None:
        return "bleeding not assessed"
    if event is not None:
        return f"WHO grade {event.who_grade} bleeding on {event.date.isoformat()}"
    if rule.window_days == 0:
        return "no bleeding"
    return f"no bleeding in prior {rule.window_days} days"


def _rescue_text(episode: RescueEpisode | None, rule: RescueRule | None) -> str:
    if rule is None:
        return "rescue not assessed"
    window = "since day 1" if rule.since_start else f"in prior {rule.lookback_days} days"
    if episode is None:
        return f"no rescue {window}"
    stop = episode.stop.isoformat() if episode.stop else "ongoing"
    return f"rescue {episode.therapy} {episode.start.isoformat()} to {stop} {window}"


def _platelet_visits(criteria: ResponseCriteria, course: PatientCourse) -> list[VisitResponse]:
    baseline = baseline_platelets(criteria, course)
    return [
        assess_platelet_response(count, criteria, course, baseline)
        for count in _after_day1(course.platelets, course.day1)
    ]


def _criteria_of(
    spec_or_criteria: EndpointSpec | ResponseCriteria | Mapping[str, Any],
) -> ResponseCriteria:
    if isinstance(spec_or_criteria, EndpointSpec):
        return spec_or_criteria.criteria
    if isinstance(spec_or_criteria, ResponseCriteria):
        return spec_or_criteria
    return parse_response_criteria(spec_or_criteria)
