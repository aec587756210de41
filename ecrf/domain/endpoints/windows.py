"""Time-point windows, data cuts, withdrawal and the shared text of the results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, NamedTuple

from ecrf.domain.endpoints.course import (
    EpisodeSearch,
    Observation,
    PatientCourse,
    ResponseEpisode,
    VisitResponse,
)
from ecrf.domain.endpoints.formatting import _fmt
from ecrf.domain.endpoints.spec import (
    BaselineRule,
    EndpointSpec,
    LevelMatch,
    ResponseCriteria,
    TimePoint,
)


class _Outcome(NamedTuple):
    met: bool | None
    value: Decimal | int | str | None
    event: bool | None
    detail: str


@dataclass(frozen=True)
class _Window:
    target: dt.date
    start: dt.date
    end: dt.date

    def describe(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class _Lookup(NamedTuple):
    """The assessment nearest a time point, or why there is none (yet)."""

    nearest: Any | None
    missing: bool  # True: the window closed without an assessment
    reason: str


def _confirmed_by_text(episode: ResponseEpisode) -> str:
    if episode.confirmed_by is None:
        return ""
    return f" confirmed by {_plt_on(episode.confirmed_by)}"


def _window(day1: dt.date, time_point: TimePoint | None) -> _Window:
    assert time_point is not None  # parsing guarantees it for the kinds that call this
    target = day1 + dt.timedelta(days=time_point.day)
    return _Window(
        target=target,
        start=target - dt.timedelta(days=time_point.window_before),
        end=target + dt.timedelta(days=time_point.window_after),
    )


def _cut_to_horizon(course: PatientCourse, time_point: TimePoint | None) -> PatientCourse:
    if time_point is None:
        return course
    return _cut(course, _window(course.day1, time_point).end)


def _nearest_assessment(
    assessments: Sequence[Any],
    window: _Window,
    course: PatientCourse,
    *,
    missing_means: str = "counted as non-responder",
) -> _Lookup:
    """The assessment nearest the target (the earlier one on a tie), unless a nearer one may
    still arrive because the window is open at as_of."""
    inside = [item for item in assessments if window.contains(item.date)]
    nearest = min(
        inside, key=lambda item: (abs((item.date - window.target).days), item.date), default=None
    )
    if nearest is None and _closed(course, window.end):
        if _withdrawn_before(course, window.end):
            assert course.withdrawn_on is not None
            reason = (
                f"withdrawn on {course.withdrawn_on.isoformat()} with no assessment in window "
                f"{window.describe()} by then: {missing_means}"
            )
        else:
            reason = f"no assessment in window {window.describe()}: {missing_means}"
        return _Lookup(None, True, reason)
    if nearest is None:
        reason = f"no assessment yet in window {window.describe()} as of {course.as_of.isoformat()}"
        return _Lookup(None, False, reason)
    if _could_be_superseded(nearest.date, window, course):
        reason = (
            f"window {window.describe()} still open as of {course.as_of.isoformat()}: "
            f"an assessment nearer {window.target.isoformat()} may follow"
        )
        return _Lookup(None, False, reason)
    return _Lookup(nearest, False, "")


def _could_be_superseded(found: dt.date, window: _Window, course: PatientCourse) -> bool:
    """Whether an assessment after as_of, still inside the window, would be nearer the target."""
    if _closed(course, window.end):
        return False
    next_day = course.as_of + dt.timedelta(days=1)
    best_possible = max(0, (next_day - window.target).days)
    return best_possible < abs((found - window.target).days)


def _closed(course: PatientCourse, end: dt.date) -> bool:
    """No more data can arrive for a period ending on `end`: the data cut passed it, or the
    patient withdrew (as known at the data cut)."""
    return course.as_of >= end or _withdrawn_before(course, None)


def _withdrawn_before(course: PatientCourse, day: dt.date | None) -> bool:
    """Withdrawn (as known at as_of) before `day`; with day None, withdrawn at all."""
    withdrawn = course.withdrawn_on
    if withdrawn is None or withdrawn > course.as_of:
        return False
    return day is None or withdrawn < day


def _withdrawal_text(course: PatientCourse, day: dt.date | None) -> str:
    assert course.withdrawn_on is not None
    before = f" before {day.isoformat()}" if day else ""
    return f"withdrawn on {course.withdrawn_on.isoformat()}{before}: counted as non-responder"


def _withdrawn_note(course: PatientCourse) -> str:
    if not _withdrawn_before(course, None):
        return ""
    assert course.withdrawn_on is not None
    return f"; withdrawn on {course.withdrawn_on.isoformat()}"


def _data_end(course: PatientCourse) -> dt.date:
    if course.withdrawn_on is not None and course.withdrawn_on < course.as_of:
        return course.withdrawn_on
    return course.as_of


def _cut(course: PatientCourse, last_day: dt.date) -> PatientCourse:
    """The course as known on `last_day`: later observations and episodes removed, sorted."""

    def dated(items: Sequence[Any]) -> list[Any]:
        return sorted((item for item in items if item.date <= last_day), key=lambda i: i.date)

    return replace(
        course,
        platelets=dated(course.platelets),
        haemoglobin=dated(course.haemoglobin),
        bleeding=dated(course.bleeding),
        rescue=[episode for episode in course.rescue if episode.start <= last_day],
        transfusions=sorted(day for day in course.transfusions if day <= last_day),
        scores={name: dated(values) for name, values in course.scores.items()},
    )


def _after_day1(observations: Sequence[Observation], day1: dt.date) -> list[Observation]:
    return sorted((obs for obs in observations if obs.date > day1), key=lambda obs: obs.date)


def _baseline_observation(
    observations: Sequence[Observation], rule: BaselineRule | None, day1: dt.date
) -> Observation | None:
    if rule is None:
        return None
    earliest = None if rule.window_days is None else day1 - dt.timedelta(days=rule.window_days)
    candidates = [
        obs
        for obs in observations
        if obs.date <= day1 and (earliest is None or obs.date >= earliest)
    ]
    return max(candidates, key=lambda obs: obs.date, default=None)


def _series(course: PatientCourse, test_code: str) -> list[Observation]:
    return course.platelets if test_code == "PLAT" else course.haemoglobin


def _episode_text(episode: ResponseEpisode) -> str:
    text = episode.first.detail
    if episode.confirmed_by is not None:
        text += f"; confirmed by {_plt_on(episode.confirmed_by)}"
    if episode.loss_detail:
        text += f"; {episode.loss_detail}"
    return text


def _pending_text(search: EpisodeSearch) -> str:
    if search.pending is None:
        return ""
    return f"; {_plt_on(search.pending)} qualified but is not confirmed"


def _reach(spec: EndpointSpec) -> str:
    """The level an endpoint asks for, in words: "R or better" or "PR" (exact match)."""
    return f"{spec.level} or better" if spec.match is LevelMatch.AT_LEAST else f"{spec.level}"


def _confirmation_text(criteria: ResponseCriteria) -> str:
    rule = criteria.confirmation
    if rule is None:
        return "no confirmation required"
    spacing = "at least" if rule.inclusive else "more than"
    return f"needs a second qualifying count {spacing} {rule.min_days} days later"


def _last_assessment_text(visits: Sequence[VisitResponse]) -> str:
    if not visits:
        return "; no assessment after day 1"
    return f"; last assessment {_plt_on(visits[-1])}"


def _plt_on(visit: VisitResponse) -> str:
    return f"PLT {_fmt(visit.platelet_count)} on {visit.date.isoformat()}"
