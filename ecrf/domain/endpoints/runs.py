"""sustained_response: runs of consecutive qualifying counts, optionally after a response."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ecrf.domain.endpoints.counts import _bleeding_between, _platelet_visits, _rescue_during
from ecrf.domain.endpoints.course import (
    EpisodeSearch,
    PatientCourse,
    ResponseEpisode,
    VisitResponse,
)
from ecrf.domain.endpoints.episodes import _qualifies_at, find_response_episodes
from ecrf.domain.endpoints.spec import EndpointSpec, ResponseCriteria
from ecrf.domain.endpoints.windows import (
    _closed,
    _confirmation_text,
    _confirmed_by_text,
    _cut,
    _episode_text,
    _last_assessment_text,
    _Outcome,
    _pending_text,
    _plt_on,
    _reach,
    _window,
    _withdrawal_text,
    _withdrawn_before,
)


def _qualifying_run(
    visits: Sequence[VisitResponse], index: int, spec: EndpointSpec, course: PatientCourse
) -> list[VisitResponse]:
    """The counts around visits[index] that qualify at the endpoint's level with no qualifying
    bleeding between them: the run a confirmation would have to come from."""
    assert spec.level is not None
    qualifies = _qualifies_at(spec.criteria, spec.level)
    bleeding = spec.criteria.bleeding

    def joined(earlier: VisitResponse, later: VisitResponse) -> bool:
        return (
            qualifies(earlier)
            and qualifies(later)
            and (_bleeding_between(earlier.date, later.date, bleeding, course) is None)
        )

    first = index
    while first > 0 and joined(visits[first - 1], visits[first]):
        first -= 1
    last = index
    while last + 1 < len(visits) and joined(visits[last], visits[last + 1]):
        last += 1
    return list(visits[first : last + 1])


def evaluate_sustained_response(spec: EndpointSpec, course: PatientCourse) -> _Outcome:
    assert spec.duration_days is not None
    horizon = _window(course.day1, spec.time_point).end if spec.time_point else None
    bounded = _cut(course, horizon) if horizon else course
    visits = _platelet_visits(spec.criteria, bounded)
    if spec.after_response is None:
        runs = _free_runs(visits, spec, bounded)
        lasting = next((run for run in runs if run.lasted), None)
        if lasting is not None:
            return _Outcome(True, lasting.days, None, _lasting_text(lasting, spec))
        summary = _longest_run_text(runs, spec, visits)
    else:
        anchor = spec.after_response
        anchor_visits = _platelet_visits(anchor.criteria, bounded)
        search = find_response_episodes(anchor_visits, anchor.criteria, bounded, anchor.level)
        tried = _runs_after_response(visits, anchor_visits, search.episodes, spec, bounded)
        for episode, run in tried:
            if run.lasted:
                detail = (
                    f"confirmed {anchor.level} or better under the protocol response criteria: "
                    f"{_episode_text(episode)}; then maintained {_lasting_text(run, spec)}"
                )
                return _Outcome(True, run.days, None, detail)
        summary = _after_response_text(tried, search, anchor_visits, spec)
    if _withdrawn_before(course, horizon):
        return _Outcome(False, None, None, f"{_withdrawal_text(course, horizon)}; {summary}")
    if horizon is not None and _closed(course, horizon):
        detail = f"no sustained response by {horizon.isoformat()}; {summary}"
        return _Outcome(False, None, None, detail)
    detail = f"no sustained response as of {course.as_of.isoformat()}; {summary}"
    return _Outcome(None, None, None, detail)


class _Run(NamedTuple):
    """Consecutive counts qualifying under an endpoint's criteria, from `first` on."""

    first: VisitResponse
    last: VisitResponse  # the last count that kept the run going (first if none did)
    counts: int  # 0: the first count itself does not qualify
    lasted: bool  # first and last count at least duration_days apart
    ended_by: str | None  # what broke the run; None if it lasted or the data ran out
    resume: int  # index of the first count a later run may start from

    @property
    def days(self) -> int:
        return (self.last.date - self.first.date).days


def _run_from(
    visits: Sequence[VisitResponse], start: int, spec: EndpointSpec, course: PatientCourse
) -> _Run:
    """The run starting at visits[start], up to duration_days or to what breaks it: a count
    that does not qualify, or qualifying bleeding or rescue between two counts."""
    assert spec.level is not None and spec.duration_days is not None
    qualifies = _qualifies_at(spec.criteria, spec.level)
    first = visits[start]
    if not qualifies(first):
        return _Run(first, first, 0, False, f"{first.detail}; needs {_reach(spec)}", start + 1)
    last, counts = first, 1
    for index in range(start + 1, len(visits)):
        visit = visits[index]
        if not qualifies(visit):
            return _Run(first, last, counts, False, visit.detail, index + 1)
        interruption = _interruption(last, visit, spec.criteria, course)
        if interruption is not None:
            return _Run(first, last, counts, False, interruption, index)
        last, counts = visit, counts + 1
        if (last.date - first.date).days >= spec.duration_days:
            return _Run(first, last, counts, True, None, index + 1)
    return _Run(first, last, counts, False, None, len(visits))


def _free_runs(
    visits: Sequence[VisitResponse], spec: EndpointSpec, course: PatientCourse
) -> list[_Run]:
    """Runs in date order, each from the first qualifying count after the previous one broke,
    up to the first that lasts."""
    assert spec.level is not None
    qualifies = _qualifies_at(spec.criteria, spec.level)
    runs: list[_Run] = []
    index = 0
    while index < len(visits):
        if not qualifies(visits[index]):
            index += 1
            continue
        run = _run_from(visits, index, spec, course)
        runs.append(run)
        if run.lasted:
            break
        index = run.resume
    return runs


def _runs_after_response(
    visits: Sequence[VisitResponse],
    anchor_visits: Sequence[VisitResponse],
    episodes: Sequence[ResponseEpisode],
    spec: EndpointSpec,
    course: PatientCourse,
) -> list[tuple[ResponseEpisode, _Run]]:
    """One run per confirmed response episode, from its first count, up to the first that lasts.
    `visits` and `anchor_visits` classify the same counts (same order) under the endpoint's and
    the protocol's criteria."""
    tried: list[tuple[ResponseEpisode, _Run]] = []
    for episode in episodes:
        start = next(index for index, visit in enumerate(anchor_visits) if visit is episode.first)
        assert visits[start].date == episode.start
        run = _run_from(visits, start, spec, course)
        tried.append((episode, run))
        if run.lasted:
            break
    return tried


def _interruption(
    earlier: VisitResponse, later: VisitResponse, criteria: ResponseCriteria, course: PatientCourse
) -> str | None:
    """Qualifying bleeding after `earlier` up to `later`, or rescue active in that period."""
    bleeding = _bleeding_between(earlier.date, later.date, criteria.bleeding, course)
    rescue = _rescue_during(earlier.date, later.date, criteria.rescue, course)
    found: list[str] = []
    if bleeding is not None:
        found.append(f"WHO grade {bleeding.who_grade} bleeding on {bleeding.date.isoformat()}")
    if rescue is not None:
        stop = rescue.stop.isoformat() if rescue.stop else "ongoing"
        found.append(f"rescue {rescue.therapy} {rescue.start.isoformat()} to {stop}")
    return " and ".join(found) or None


def _lasting_text(run: _Run, spec: EndpointSpec) -> str:
    return (
        f"{_reach(spec)} from {_plt_on(run.first)} to {_plt_on(run.last)}: {run.days} days ≥ "
        f"{spec.duration_days}, {run.counts} counts all qualifying; {run.first.detail}"
        f"{_run_clean_text(spec.criteria)}"
    )


def _run_text(run: _Run) -> str:
    """How long a run that did not last held, and what ended it."""
    if run.counts == 0:
        return f"0 days: its first count does not qualify ({run.ended_by})"
    text = f"{run.days} days from {_plt_on(run.first)} to {_plt_on(run.last)}"
    if run.ended_by is None:
        return f"{text}, no later count"
    return f"{text}, ended by {run.ended_by}"


def _longest_run_text(
    runs: Sequence[_Run], spec: EndpointSpec, visits: Sequence[VisitResponse]
) -> str:
    needs = f"(needs ≥ {spec.duration_days})"
    if not runs:
        return f"no count qualifying for {_reach(spec)} {needs}{_last_assessment_text(visits)}"
    longest = max(runs, key=lambda run: run.days)  # the earliest of equally long runs
    return f"longest qualifying run {_run_text(longest)} {needs}"


def _after_response_text(
    tried: Sequence[tuple[ResponseEpisode, _Run]],
    search: EpisodeSearch,
    anchor_visits: Sequence[VisitResponse],
    spec: EndpointSpec,
) -> str:
    anchor = spec.after_response
    assert anchor is not None
    if not tried:
        last = (
            f"; last assessment {anchor_visits[-1].detail}"
            if anchor_visits
            else "; no assessment after day 1"
        )
        return (
            f"no confirmed {anchor.level} or better under the protocol response criteria "
            f"({_confirmation_text(anchor.criteria)}){last}{_pending_text(search)}"
        )
    runs = "; ".join(
        f"response from {_plt_on(episode.first)}{_confirmed_by_text(episode)}: "
        f"{_reach(spec)} held {_run_text(run)}"
        for episode, run in tried
    )
    return f"{runs} (needs ≥ {spec.duration_days} days from the response's first count)"


def _run_clean_text(criteria: ResponseCriteria) -> str:
    checked = [
        name
        for name, rule in (("bleeding", criteria.bleeding), ("rescue", criteria.rescue))
        if rule is not None
    ]
    return f"; no {' or '.join(checked)} during the run" if checked else ""
