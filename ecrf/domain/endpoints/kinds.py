"""The evaluators of the endpoint kinds (but sustained_response, in ``runs``); the registry binds
each to its kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from ecrf.domain.endpoints.counts import _combine, _platelet_visits
from ecrf.domain.endpoints.course import (
    EpisodeSearch,
    Observation,
    PatientCourse,
    ResponseEpisode,
    VisitResponse,
)
from ecrf.domain.endpoints.episodes import _matches_level, find_response_episodes
from ecrf.domain.endpoints.formatting import _fmt
from ecrf.domain.endpoints.runs import _qualifying_run
from ecrf.domain.endpoints.spec import (
    NON_RESPONSE,
    ConfirmedBy,
    EndpointSpec,
    LevelMatch,
    ResponseCriteria,
    ResponseLevel,
)
from ecrf.domain.endpoints.windows import (
    _after_day1,
    _baseline_observation,
    _closed,
    _confirmation_text,
    _confirmed_by_text,
    _cut,
    _cut_to_horizon,
    _episode_text,
    _last_assessment_text,
    _nearest_assessment,
    _Outcome,
    _pending_text,
    _plt_on,
    _reach,
    _series,
    _window,
    _withdrawn_before,
    _withdrawn_note,
)
from ecrf.domain.scores import is_clinically_important_improvement


def evaluate_best_response(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.level is not None
    window = _window(course.day1, spec.time_point)
    bounded = _cut(course, window.end)
    visits = _platelet_visits(spec.criteria, bounded)
    codes = [level.code for level in spec.criteria.platelet_levels]
    exact = spec.match is LevelMatch.EXACTLY
    # An exact match must also rule out the better levels, so it looks from the best one down.
    candidates = codes[: codes.index(spec.level) + 1] if exact else [spec.level]
    for code in candidates:
        search = find_response_episodes(visits, spec.criteria, bounded, code)
        if not search.episodes:
            continue
        evidence = _episode_text(search.episodes[0])
        if code != spec.level:
            detail = f"best confirmed response {code}, better than {spec.level}: {evidence}"
            return _Outcome(False, None, None, detail)
        if exact and not _closed(course, window.end):
            detail = (
                f"{code} confirmed, a better level may follow by {window.end.isoformat()}: "
                f"{evidence}"
            )
            return _Outcome(None, None, None, detail)
        return _Outcome(True, None, None, f"confirmed {_reach(spec)} from {evidence}")
    reach = _reach(spec)
    pending = _pending_text(find_response_episodes(visits, spec.criteria, bounded, spec.level))
    if _withdrawn_before(course, window.end):
        assert course.withdrawn_on is not None
        detail = (
            f"withdrawn on {course.withdrawn_on.isoformat()} with no confirmed {reach} by then "
            f"(window ends {window.end.isoformat()}): counted as non-responder"
            f"{_last_assessment_text(visits)}{pending}"
        )
        return _Outcome(False, None, None, detail)
    if not _closed(course, window.end):
        detail = (
            f"no confirmed {reach} as of {course.as_of.isoformat()}; window ends "
            f"{window.end.isoformat()}{pending}"
        )
        return _Outcome(None, None, None, detail)
    detail = (
        f"no confirmed {reach} between day 1 and {window.end.isoformat()}"
        f"{_last_assessment_text(visits)}{pending}"
    )
    return _Outcome(False, None, None, detail)


def evaluate_response_at_time_point(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.level is not None
    window = _window(course.day1, spec.time_point)
    bounded = _cut(course, window.end)
    visits = _platelet_visits(spec.criteria, bounded)
    lookup = _nearest_assessment(visits, window, course)
    if lookup.nearest is None:
        return _Outcome(False if lookup.missing else None, None, None, lookup.reason)
    nearest: VisitResponse = lookup.nearest
    levels = spec.criteria.platelet_levels
    if not _matches_level(nearest.response, spec.level, spec.match, levels):
        return _Outcome(False, None, None, f"{nearest.detail}; needs {_reach(spec)}")
    if spec.criteria.confirmation is None:
        return _Outcome(True, None, None, nearest.detail)
    ongoing = spec.confirmed_by is ConfirmedBy.ASSESSMENT
    # The evidence that may confirm the count: up to the window end, or up to the count itself.
    last_day = nearest.date if ongoing else window.end
    evidence = [visit for visit in visits if visit.date <= last_day]
    search = find_response_episodes(evidence, spec.criteria, bounded, spec.level)
    episode = _episode_covering(search.episodes, nearest.date)
    if episode is not None:
        detail = (
            f"{nearest.detail}; in response since {episode.start.isoformat()}: "
            f"{_episode_text(episode)}"
        )
        return _Outcome(True, None, None, detail)
    awaiting = search.pending is not None and search.pending.date <= nearest.date
    if not ongoing and awaiting and not _closed(course, window.end):
        detail = f"{nearest.detail}; awaiting confirmation by {window.end.isoformat()}"
        return _Outcome(None, None, None, detail)
    by = f"on or before {nearest.date.isoformat()}" if ongoing else f"by {last_day.isoformat()}"
    position = next(index for index, visit in enumerate(evidence) if visit is nearest)
    run = _qualifying_run(evidence, position, spec, bounded)
    withdrawn = (
        "" if ongoing or not _withdrawn_before(course, window.end) else _withdrawn_note(course)
    )
    detail = (
        f"{nearest.detail}{_lost_before_text(search.episodes, nearest.date)}; not part of a "
        f"response confirmed {by} ({_confirmation_text(spec.criteria)}); unbroken qualifying run: "
        f"{', '.join(_plt_on(visit) for visit in run)}{withdrawn}"
    )
    return _Outcome(False, None, None, detail)


def _episode_covering(episodes: Sequence[ResponseEpisode], day: dt.date) -> ResponseEpisode | None:
    """The response episode that started on or before `day` and was not lost by then."""
    for episode in episodes:
        if episode.start <= day and (episode.lost_on is None or episode.lost_on > day):
            return episode
    return None


def _lost_before_text(episodes: Sequence[ResponseEpisode], day: dt.date) -> str:
    """The latest response lost on or before `day`: when, and by what (counts or bleeding)."""
    lost = [ep for ep in episodes if ep.lost_on is not None and ep.lost_on <= day]
    if not lost:
        return ""
    episode = lost[-1]
    return (
        f"; earlier response from {_plt_on(episode.first)}{_confirmed_by_text(episode)} "
        f"{episode.loss_detail}"
    )


def evaluate_time_to_response(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    visits, search = _episodes_within_horizon(spec, course)
    if search.episodes:
        episode = search.episodes[0]
        days = (episode.start - course.day1).days
        return _Outcome(None, days, True, f"response on day {days}: {_episode_text(episode)}")
    last = visits[-1].date if visits else course.day1
    days = (last - course.day1).days
    detail = (
        f"no confirmed {_reach(spec)}; censored at last assessment {last.isoformat()} "
        f"(day {days}){_withdrawn_note(course)}{_pending_text(search)}"
    )
    return _Outcome(None, days, False, detail)


def evaluate_duration_of_response(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    visits, search = _episodes_within_horizon(spec, course)
    if not search.episodes:
        detail = f"not a responder: no confirmed {_reach(spec)}{_last_assessment_text(visits)}"
        return _Outcome(None, None, None, detail)
    first = search.episodes[0]
    last = visits[-1].date
    # Cumulative time in response over time observed (IWG) is reported alongside, for the monitor.
    cumulative = sum(
        ((episode.lost_on or last) - episode.start).days for episode in search.episodes
    )
    summary = (
        f"; {len(search.episodes)} response episode(s), {cumulative} days in response over "
        f"{(last - course.day1).days} days observed"
    )
    if first.lost_on is not None:
        days = (first.lost_on - first.start).days
        detail = f"response from {first.start.isoformat()} {first.loss_detail} ({days} days)"
        return _Outcome(None, days, True, detail + summary)
    days = (last - first.start).days
    detail = (
        f"response from {first.start.isoformat()} not lost; censored at last assessment "
        f"{last.isoformat()} ({days} days){_withdrawn_note(course)}"
    )
    return _Outcome(None, days, False, detail + summary)


def _episodes_within_horizon(
    spec: EndpointSpec, course: PatientCourse
) -> tuple[list[VisitResponse], EpisodeSearch]:
    assert spec.level is not None
    bounded = _cut_to_horizon(course, spec.time_point)
    visits = _platelet_visits(spec.criteria, bounded)
    return visits, find_response_episodes(visits, spec.criteria, bounded, spec.level)


def evaluate_peak_value(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.test_code is not None
    bounded = _cut_to_horizon(course, spec.time_point)
    values = _after_day1(_series(bounded, spec.test_code), course.day1)
    if not values:
        return _Outcome(None, None, None, f"no {spec.test_code} after day 1")
    peak = max(values, key=lambda obs: (obs.value, -obs.date.toordinal()))  # earliest of ties
    detail = (
        f"peak {spec.test_code} {_fmt(peak.value)} on {peak.date.isoformat()} (highest of "
        f"{len(values)} values from {values[0].date.isoformat()} to {values[-1].date.isoformat()})"
    )
    return _Outcome(None, peak.value, None, detail)


def evaluate_value_at_time_point(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.test_code is not None
    window = _window(course.day1, spec.time_point)
    values = _after_day1(_series(_cut(course, window.end), spec.test_code), course.day1)
    lookup = _nearest_assessment(values, window, course, missing_means="no value")
    if lookup.nearest is None:
        return _Outcome(None, None, None, lookup.reason)
    nearest: Observation = lookup.nearest
    detail = (
        f"{spec.test_code} {_fmt(nearest.value)} on {nearest.date.isoformat()} "
        f"(nearest to {window.target.isoformat()} in window {window.describe()})"
    )
    return _Outcome(None, nearest.value, None, detail)


def evaluate_haemoglobin_response(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    window = _window(course.day1, spec.time_point)
    values = _after_day1(_cut(course, window.end).haemoglobin, course.day1)
    lookup = _nearest_assessment(values, window, course)
    if lookup.nearest is None:
        if lookup.missing:
            return _Outcome(False, NON_RESPONSE, None, lookup.reason)
        return _Outcome(None, None, None, lookup.reason)
    response, detail = assess_haemoglobin_response(lookup.nearest, spec.criteria, course)
    if spec.level is None:
        met = response != NON_RESPONSE
    else:
        met = _matches_level(response, spec.level, spec.match, spec.criteria.haemoglobin_levels)
    return _Outcome(met, response, None, detail)


def assess_haemoglobin_response(
    value: Observation, criteria: ResponseCriteria, course: PatientCourse
) -> tuple[str, str]:
    """Best haemoglobin level met by one Hb value; NR if transfused within the rule's days."""
    baseline_obs = _baseline_observation(course.haemoglobin, criteria.baseline, course.day1)
    baseline = None if baseline_obs is None else baseline_obs.value
    where = f"Hb {_fmt(value.value)} on {value.date.isoformat()}"
    levels = criteria.haemoglobin_levels
    matched = None
    for level in levels:
        met, rules_text = _haemoglobin_rules(level, value.value, baseline)
        if met:
            matched, value_text = level, f"{where} {rules_text}"
            break
    else:
        _, needs = _haemoglobin_rules(levels[-1], value.value, baseline)
        value_text = f"{where} meets no level ({levels[-1].code} needs {needs})"
    transfusion = _transfusion_before(value.date, criteria.transfusion_free_days, course)
    response = matched.code if matched is not None and transfusion is None else NON_RESPONSE
    if matched is not None and transfusion is not None:
        value_text += f" ({matched.code} by value)"
    return response, f"{response}: {value_text}; {_transfusion_text(criteria, transfusion)}"


def _haemoglobin_rules(
    level: ResponseLevel, value: Decimal, baseline: Decimal | None
) -> tuple[bool, str]:
    rules: list[tuple[bool, str]] = []
    for threshold in (level.hb, level.hb_max):
        if threshold is not None:
            rules.append((threshold.holds(value), threshold.describe()))
    rise = level.rise_from_baseline
    if rise is not None:
        if baseline is None:
            rules.append((False, f"rise {rise.describe()} from baseline (no baseline Hb)"))
        else:
            change = value - baseline
            text = f"rise {_fmt(change)} {rise.describe()} from baseline {_fmt(baseline)}"
            rules.append((rise.holds(change), text))
    return _combine(level, rules)


def _transfusion_before(
    day: dt.date, free_days: int | None, course: PatientCourse
) -> dt.date | None:
    if free_days is None:
        return None
    window_start = day - dt.timedelta(days=free_days)
    return next((given for given in course.transfusions if window_start <= given <= day), None)


def _transfusion_text(criteria: ResponseCriteria, transfusion: dt.date | None) -> str:
    days = criteria.transfusion_free_days
    if days is None:
        return "transfusions not assessed"
    if transfusion is None:
        return f"no transfusion in prior {days} days"
    return f"transfusion on {transfusion.isoformat()} within prior {days} days"


def evaluate_score_change(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.score is not None
    window = _window(course.day1, spec.time_point)
    scores = sorted(course.scores.get(spec.score, []), key=lambda obs: obs.date)
    baseline = next((obs for obs in reversed(scores) if obs.date <= course.day1), None)
    if baseline is None:
        return _Outcome(None, None, None, f"no baseline {spec.score} on or before day 1")
    # Without an MCII rule the endpoint is continuous only; with one, missing data is a failure.
    met_if_missing = False if spec.mcii is not None else None
    missing_means = "no value" if spec.mcii is None else "no value, MCII counted as not met"
    follow_ups = [obs for obs in _after_day1(scores, course.day1) if obs.date <= window.end]
    lookup = _nearest_assessment(follow_ups, window, course, missing_means=missing_means)
    if lookup.nearest is None:
        return _Outcome(met_if_missing if lookup.missing else None, None, None, lookup.reason)
    nearest: Observation = lookup.nearest
    change = nearest.value - baseline.value
    detail = (
        f"{spec.score} {_fmt(nearest.value)} on {nearest.date.isoformat()} − baseline "
        f"{_fmt(baseline.value)} on {baseline.date.isoformat()} = {_fmt(change)}"
    )
    if spec.mcii is None:
        return _Outcome(None, change, None, detail)
    met = is_clinically_important_improvement(
        baseline.value,
        nearest.value,
        absolute_drop=spec.mcii.absolute_drop,
        relative_drop=spec.mcii.relative_drop,
    )
    verdict = "met" if met else "not met"
    return _Outcome(met, change, None, f"{detail}; MCII ({spec.mcii.describe()}) {verdict}")
