"""A patient's course (the engine's input) and what the engine reports (its output)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from ecrf.domain.endpoints.spec import EndpointKind


@dataclass(frozen=True)
class Observation:
    date: dt.date
    value: Decimal


@dataclass(frozen=True)
class BleedingObservation:
    date: dt.date
    who_grade: int


@dataclass(frozen=True)
class RescueEpisode:
    start: dt.date
    stop: dt.date | None  # None: ongoing
    itp_directed: bool
    therapy: str


@dataclass(frozen=True, kw_only=True)
class PatientCourse:
    day1: dt.date
    as_of: dt.date
    platelets: list[Observation] = field(default_factory=list)  # 10^9/L
    haemoglobin: list[Observation] = field(default_factory=list)  # g/L
    bleeding: list[BleedingObservation] = field(default_factory=list)
    rescue: list[RescueEpisode] = field(default_factory=list)
    transfusions: list[dt.date] = field(default_factory=list)
    scores: dict[str, list[Observation]] = field(default_factory=dict)  # ESSDAI, ESSPRI
    baseline_platelets: Decimal | None = None
    withdrawn_on: dt.date | None = None
    # None: diagnoses are not distinguished (every endpoint applies); "": the study records
    # diagnoses but this patient's is missing; else the patient's diagnosis code.
    diagnosis: str | None = None


@dataclass(frozen=True)
class VisitResponse:
    date: dt.date
    platelet_count: Decimal
    response: str  # level code or "NR"
    bleeding: bool
    rescue: bool
    qualifying: bool
    detail: str


@dataclass(frozen=True)
class EndpointResult:
    code: str
    kind: EndpointKind
    met: bool | None
    value: Decimal | int | str | None
    event: bool | None
    detail: str
    applicable: bool = True  # False: restricted to other diagnoses than the patient's


@dataclass(frozen=True)
class ResponseEpisode:
    """A confirmed response at a level or better, from its first qualifying count to its loss."""

    level: str
    first: VisitResponse
    confirmed_by: VisitResponse | None  # None when confirmation is not required
    lost_on: dt.date | None
    loss_detail: str | None

    @property
    def start(self) -> dt.date:
        return self.first.date


class EpisodeSearch(NamedTuple):
    episodes: list[ResponseEpisode]
    pending: VisitResponse | None  # first count of an unbroken run still awaiting confirmation
