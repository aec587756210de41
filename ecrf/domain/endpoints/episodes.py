"""Response episodes: a qualifying count, its confirmation, its loss and a regain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import NamedTuple

from ecrf.domain.endpoints.counts import _bleeding_between, _relevant_bleeding
from ecrf.domain.endpoints.course import (
    EpisodeSearch,
    PatientCourse,
    ResponseEpisode,
    VisitResponse,
)
from ecrf.domain.endpoints.spec import (
    NON_RESPONSE,
    SINGLE_COUNT_LOSS,
    LevelMatch,
    LossRule,
    ResponseCriteria,
    ResponseLevel,
)
from ecrf.domain.endpoints.windows import _plt_on


def find_response_episodes(
    visits: Sequence[VisitResponse],
    criteria: ResponseCriteria,
    course: PatientCourse,
    level: str,
) -> EpisodeSearch:
    """Confirmed responses at `level` or better, in order; a later regain is a new episode."""
    qualifies = _qualifies_at(criteria, level)
    episodes: list[ResponseEpisode] = []
    index = 0
    while index < len(visits):
        if not qualifies(visits[index]):
            index += 1
            continue
        confirming: VisitResponse | None = None
        found_index: int | None = None
        if criteria.confirmation is not None:
            found = _find_confirmation(visits, index, criteria, course, qualifies)
            if found.pending:
                return EpisodeSearch(episodes, visits[index])
            if found.index is None:
                index = found.resume
                continue
            found_index = found.index
            confirming = visits[found_index]
        last_checked = index if found_index is None else found_index
        loss = _find_loss(visits, last_checked, criteria, course, qualifies)
        episodes.append(ResponseEpisode(level, visits[index], confirming, loss.date, loss.detail))
        if loss.date is None:
            break
        index = loss.resume
    return EpisodeSearch(episodes, None)


class _Confirmation(NamedTuple):
    index: int | None
    resume: int
    pending: bool


class _Loss(NamedTuple):
    date: dt.date | None
    detail: str | None
    resume: int


def _find_confirmation(
    visits: Sequence[VisitResponse],
    first_index: int,
    criteria: ResponseCriteria,
    course: PatientCourse,
    qualifies: Callable[[VisitResponse], bool],
) -> _Confirmation:
    rule = criteria.confirmation
    assert rule is not None
    first = visits[first_index]
    for index in range(first_index + 1, len(visits)):
        candidate = visits[index]
        if not qualifies(candidate):
            return _Confirmation(None, index + 1, False)
        if _bleeding_between(first.date, candidate.date, criteria.bleeding, course):
            return _Confirmation(None, index, False)  # the candidate may start a new run
        if _apart(first.date, candidate.date, rule.min_days, rule.inclusive):
            return _Confirmation(index, index, False)
    return _Confirmation(None, len(visits), True)


def _find_loss(
    visits: Sequence[VisitResponse],
    confirmed_index: int,
    criteria: ResponseCriteria,
    course: PatientCourse,
    qualifies: Callable[[VisitResponse], bool],
) -> _Loss:
    """Earliest loss after the confirming count: a confirmed run of non-qualifying counts
    (dated at its first count) or, if the rule says so, qualifying bleeding."""
    rule = criteria.loss or SINGLE_COUNT_LOSS
    confirmed_on = visits[confirmed_index].date
    chain = _non_qualifying_chain(visits, confirmed_index + 1, rule, qualifies)
    bleeding = None
    if rule.bleeding and criteria.bleeding is not None:
        bleeding = next(
            (
                event
                for event in _relevant_bleeding(criteria.bleeding, course)
                if event.date > confirmed_on
            ),
            None,
        )
    if chain and (bleeding is None or visits[chain[0]].date <= bleeding.date):
        counts = ", ".join(_plt_on(visits[index]) for index in chain)
        spacing = "≥" if rule.inclusive else ">"
        detail = (
            f"lost on {visits[chain[0]].date.isoformat()}: {counts} "
            f"({rule.confirmations} non-qualifying count(s) {spacing} {rule.min_days} day(s) apart)"
        )
        return _Loss(visits[chain[0]].date, detail, chain[0] + 1)
    if bleeding is not None:
        detail = f"lost on {bleeding.date.isoformat()}: WHO grade {bleeding.who_grade} bleeding"
        resume = next(
            (index for index, visit in enumerate(visits) if visit.date > bleeding.date),
            len(visits),
        )
        return _Loss(bleeding.date, detail, resume)
    return _Loss(None, None, len(visits))


def _non_qualifying_chain(
    visits: Sequence[VisitResponse],
    start: int,
    rule: LossRule,
    qualifies: Callable[[VisitResponse], bool],
) -> list[int] | None:
    """Indexes of the first `rule.confirmations` consecutive non-qualifying counts spaced by the
    rule, or None. Greedy from the first count of each run: the earliest chain wins."""
    index = start
    while index < len(visits):
        if qualifies(visits[index]):
            index += 1
            continue
        chain = [index]
        nxt = index + 1
        while nxt < len(visits) and not qualifies(visits[nxt]):
            if len(chain) == rule.confirmations:
                break
            if _apart(visits[chain[-1]].date, visits[nxt].date, rule.min_days, rule.inclusive):
                chain.append(nxt)
            nxt += 1
        if len(chain) == rule.confirmations:
            return chain
        index = nxt  # the run ended (a qualifying count or no more data) before confirming
    return None


def _qualifies_at(criteria: ResponseCriteria, level: str) -> Callable[[VisitResponse], bool]:
    ranks = {lvl.code: rank for rank, lvl in enumerate(criteria.platelet_levels)}
    target = ranks[level]
    return lambda visit: visit.qualifying and ranks.get(visit.response, len(ranks)) <= target


def _matches_level(
    response: str, level: str, match: LevelMatch, levels: Sequence[ResponseLevel]
) -> bool:
    if response == NON_RESPONSE:
        return False
    if match is LevelMatch.EXACTLY:
        return response == level
    ranks = {lvl.code: rank for rank, lvl in enumerate(levels)}
    return ranks[response] <= ranks[level]


def _apart(first: dt.date, second: dt.date, min_days: int, inclusive: bool) -> bool:
    gap = (second - first).days
    return gap >= min_days if inclusive else gap > min_days
