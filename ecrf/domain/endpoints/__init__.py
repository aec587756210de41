"""Endpoint engine: parses a protocol's endpoint definitions, evaluates them on a patient's course.

Input format: the protocol-file endpoint part described in ``docs/domain-contracts.md`` —
``response_criteria`` (defaults) plus ``endpoints`` (list), each endpoint's ``criteria`` deep-merged
over the defaults (an explicit ``null`` removes a rule or a level).

Response levels are ranked by their explicit ``rank`` (1 = best), never by the order of the keys
of ``levels``: the design is stored as PostgreSQL ``jsonb``, which does not keep key order. Every
level of a merged criteria block needs a rank (an override level merged onto a protocol level
inherits its rank), and no two levels of one family (platelet, haemoglobin) share one.

Extensions of the contract (all optional; a file written to the contract alone parses unchanged):

- Level keys ``hb``, ``hb_max`` and ``rise_from_baseline`` (``{op, value}``, g/L) make a
  haemoglobin level; ``platelets``, ``platelets_max`` and ``fold_of_baseline`` make a platelet
  level. A level may not mix the two (null out the keys that do not apply). Platelet endpoints use
  the platelet levels, ``haemoglobin_response`` the haemoglobin levels.
- ``combine: all | any`` on a level: whether all of its rules must hold (default, the IWG reading of
  "≥ 30 and ≥ 2× baseline") or any one (e.g. AIHA PR "Hb ≥ 100 or a rise ≥ 20").
- ``fold_of_baseline`` is a number (count ≥ fold × baseline) or ``{op, value}`` for a strict fold.
- ``loss.bleeding`` (default true): whether qualifying bleeding after a confirmed response is a
  loss.
  ``loss: null`` means a single non-qualifying count (or bleeding) ends a response.
- ``transfusion_free_days`` may sit on the endpoint or in its ``criteria``.
- ``mcii: {absolute_drop, relative_drop}``: ``relative_drop`` is a fraction (0.15 = 15 %).
- Endpoint keys ``description`` and ``notes`` are accepted and ignored (documentation only).
- ``after_response: {level}`` (sustained_response only): the run must start at the first count of
  a confirmed response at ``level`` or better under the protocol's own ``response_criteria`` (its
  levels, baseline, bleeding, rescue, confirmation and loss rules; the endpoint's ``criteria``
  overrides do not apply to it). From that count on, every count of the following
  ``duration_days`` must meet the endpoint's ``criteria``. Each confirmed response episode (a
  regain after a loss included) may start the run; a run that starts anywhere else does not count.
  Without ``after_response`` any qualifying count may start the run.
- ``confirmed_by: window_end | assessment`` (response_at_time_point only; default ``window_end``):
  with ``window_end`` the assessed count may be confirmed by any later count up to the window end;
  with ``assessment`` it must belong to a response already confirmed on or before the assessed
  count itself and not lost by then (an ongoing response), so counts after it cannot change the
  result. Without a confirmation rule the count alone decides either way.

Conventions:

- Days are counted from day 1: ``time_point.day: 180`` targets the date ``day1 + 180 days``; the
  window is [target − window_before, target + window_after], both ends included; time to response
  is ``(response date − day1).days``.
- Baseline: ``course.baseline_platelets`` when given, else the latest count on or before day 1 and
  at most ``baseline.window_days`` before it. Response assessments are the counts after day 1.
- A rescue episode counts against a count when it is active on any day of
  [count − lookback_days, count] (both ends included), or of [day 1, count] with ``since_start``.
  Bleeding of at least ``min_who_grade`` dated within [count − window_days, count] makes the count
  NR; bleeding between a first count and its confirmation breaks the confirmation.
- The evidence of an endpoint with a time point is bounded by its window: a response "by day 180
  (+14)" must be confirmed by day 194; a count at a time point must be confirmed within the window
  (or on or before that count, with ``confirmed_by: assessment``).
- A binary result is ``None`` while it cannot be decided at ``as_of`` (window still open), ``False``
  once the window closed without the evidence (a missing assessment counts as non-response).
- Withdrawal: data after ``as_of`` or after ``withdrawn_on`` are ignored, and a withdrawal closes
  every window (no later data can arrive). An assessment dated inside the window on or before the
  withdrawal date is used as usual (the nearest to the target among them); only when no usable
  assessment exists is the endpoint False (non-responder), its value None (continuous kinds) or
  its time to event censored. A withdrawal dated after ``as_of`` is not yet known at that cut.
- Time-to-event endpoints have ``met = None`` and report ``value`` (days) with ``event``.
- sustained_response: a run of consecutive qualifying counts, with no qualifying bleeding or rescue
  between them, whose first and last counts are ≥ ``duration_days`` apart, ending by the horizon
  (with ``after_response``, starting at the first count of a confirmed response); ``value`` is that
  span in days. ``match: exactly`` is allowed only for best_response,
  response_at_time_point and haemoglobin_response (the others work at "a level or better").
- ``value``: days for time-to-event kinds and sustained_response, the measured value (Decimal) for
  peak_value / value_at_time_point / score_change (change = follow-up − baseline), the level code
  for haemoglobin_response; ``None`` otherwise.

Layout (each module imports only those above it): ``formatting`` (number text),
``spec`` (kinds and parsed definitions), ``course`` (input and results), ``criteria`` (parsing of
a criteria block), ``windows`` (time-point windows, data cuts, withdrawal, shared result text),
``counts`` (single platelet counts), ``episodes`` (confirmation, loss, regain), ``runs``
(sustained_response), ``kinds`` (the evaluators), ``registry`` (each kind declared once: evaluator,
result type, family, keys; and evaluation), ``parsing`` (endpoint definitions, checked against the
registry). This module is the public face: callers import from ``ecrf.domain.endpoints`` only; the
underscore helpers are shared among the modules of the package and are not part of it.
"""

from __future__ import annotations

from ecrf.domain.endpoints.applicability import platelet_responses_apply
from ecrf.domain.endpoints.counts import (
    assess_platelet_response,
    assess_visits,
    baseline_platelets,
    sharing_visit_responses,
)
from ecrf.domain.endpoints.course import (
    BleedingObservation,
    EndpointResult,
    EpisodeSearch,
    Observation,
    PatientCourse,
    RescueEpisode,
    ResponseEpisode,
    VisitResponse,
)
from ecrf.domain.endpoints.criteria import merge_criteria, parse_response_criteria
from ecrf.domain.endpoints.episodes import find_response_episodes
from ecrf.domain.endpoints.kinds import assess_haemoglobin_response
from ecrf.domain.endpoints.parsing import build_endpoint_specs
from ecrf.domain.endpoints.registry import (
    ENDPOINT_KEYS,
    KINDS,
    Family,
    KindDefinition,
    ResultType,
    evaluate_endpoint,
    evaluate_endpoints,
    kind_definition,
    kinds_of,
)
from ecrf.domain.endpoints.spec import (
    NON_RESPONSE,
    SCORES,
    SERIES_TESTS,
    SINGLE_COUNT_LOSS,
    AfterResponse,
    BaselineRule,
    BleedingRule,
    ConfirmationRule,
    ConfirmedBy,
    EndpointKind,
    EndpointSpec,
    LevelMatch,
    LossRule,
    MciiRule,
    RescueRule,
    ResponseCriteria,
    ResponseLevel,
    Threshold,
    TimePoint,
)

__all__ = [
    "ENDPOINT_KEYS",
    "KINDS",
    "NON_RESPONSE",
    "SCORES",
    "SERIES_TESTS",
    "SINGLE_COUNT_LOSS",
    "AfterResponse",
    "BaselineRule",
    "BleedingObservation",
    "BleedingRule",
    "ConfirmationRule",
    "ConfirmedBy",
    "EndpointKind",
    "EndpointResult",
    "EndpointSpec",
    "EpisodeSearch",
    "Family",
    "KindDefinition",
    "LevelMatch",
    "LossRule",
    "MciiRule",
    "Observation",
    "PatientCourse",
    "RescueEpisode",
    "RescueRule",
    "ResponseCriteria",
    "ResponseEpisode",
    "ResponseLevel",
    "ResultType",
    "Threshold",
    "TimePoint",
    "VisitResponse",
    "assess_haemoglobin_response",
    "assess_platelet_response",
    "assess_visits",
    "baseline_platelets",
    "build_endpoint_specs",
    "evaluate_endpoint",
    "evaluate_endpoints",
    "find_response_episodes",
    "kind_definition",
    "kinds_of",
    "merge_criteria",
    "parse_response_criteria",
    "platelet_responses_apply",
    "sharing_visit_responses",
]
