"""List filters every client can rely on (issue 11).

`ContractFilterBackend` (REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"], instead of django-filter's
own backend) adds to each list's filters:

- `updated_since` on every list of records that keep `updated_at`: what changed at or after that
  timestamp, which must carry its UTC offset — for incremental sync;
- voided records left out unless asked for: `include_voided=true` (all), or `is_voided=true`
  (only the voided ones); so a mirror asks `updated_since=…&include_voided=true` to see voids;
- the clinical date range of a record list (`date_range_field` on the view): two filters named
  after the field without its `_at`/`_on`/`_date` — `collected_after`/`collected_before` on
  `collected_at` — inclusive; a timestamp field takes a timestamp with its offset, a date field
  a date;
- codes compared case-insensitively: every free-text field in `filterset_fields` (test codes,
  visit codes, drugs, subject ids) and the view's `code_filters` (a name → the lookup paths it
  matches, e.g. a patient's `arm` by its code);
- a 400 naming every query parameter the list does not know, with the accepted ones, instead of
  silently answering the whole list.

`ContractOrderingFilter` answers an unknown `ordering` with a 400 listing the accepted ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django_filters import CharFilter, FilterSet
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.filters import OrderingFilter

from ecrf.exceptions import InvalidInput

UPDATED_SINCE = "updated_since"
INCLUDE_VOIDED = "include_voided"
# Understood by every list besides its filters: pagination, ordering, the renderer's format.
GENERAL_PARAMETERS = frozenset({"page", "page_size", "ordering", "format"})
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def _has_field(queryset, name: str) -> bool:
    return queryset is not None and any(
        f.name == name for f in queryset.model._meta.concrete_fields
    )


# --- Case-insensitive codes ----------------------------------------------------------------------


class CodeFilter(CharFilter):
    """A code matched case-insensitively against one or more lookup paths (any may match)."""

    def __init__(self, *paths: str, **kwargs):
        super().__init__(field_name=paths[0], lookup_expr="iexact", **kwargs)
        self.paths = paths

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        match = Q()
        for path in self.paths:
            match |= Q(**{f"{path}__iexact": value.strip()})
        return qs.filter(match)


class ContractFilterSet(FilterSet):
    # Free-text fields hold codes (PLAT, W4, TACROLIMUS, 01-001): exact but case-insensitive.
    # Fields with choices stay enums (django-filter gives them a ChoiceFilter first).
    FILTER_DEFAULTS = {
        **FilterSet.FILTER_DEFAULTS,
        models.CharField: {
            "filter_class": CharFilter,
            "extra": lambda f: {"lookup_expr": "iexact"},
        },
    }


# --- Clinical date ranges ------------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    field: str  # the model field, e.g. collected_at
    is_timestamp: bool

    @property
    def stem(self) -> str:
        for suffix in ("_at", "_on", "_date"):
            if self.field.endswith(suffix):
                return self.field.removesuffix(suffix)
        return self.field

    @property
    def after(self) -> str:
        return f"{self.stem}_after"

    @property
    def before(self) -> str:
        return f"{self.stem}_before"


def date_range_of(view, queryset) -> DateRange | None:
    name = getattr(view, "date_range_field", None)
    if not name or queryset is None:
        return None
    field = queryset.model._meta.get_field(name)
    return DateRange(name, isinstance(field, models.DateTimeField))


def _parse(raw: str, parameter: str, *, timestamp: bool):
    if timestamp:
        from ecrf.api import OffsetDateTimeField  # here: DRF loads this module early

        field = OffsetDateTimeField()
    else:
        field = serializers.DateField()
    try:
        return field.run_validation(raw)
    except serializers.ValidationError as exc:
        raise InvalidInput(str(exc.detail[0]), field=parameter) from exc


# --- The backend ---------------------------------------------------------------------------------


class ContractFilterBackend(DjangoFilterBackend):
    filterset_base = ContractFilterSet

    def get_filterset_class(self, view, queryset=None):
        base = super().get_filterset_class(view, queryset)
        code_filters = getattr(view, "code_filters", None)
        if not code_filters or queryset is None:
            return base
        if base is None:
            base = type("AutoFilterSet", (ContractFilterSet,), {"Meta": _meta(queryset, [])})
        declared = {
            name: CodeFilter(*paths, label=f"Code, any case ({' or '.join(paths)}).")
            for name, paths in code_filters.items()
        }
        return type(f"{type(view).__name__}Filters", (base,), declared)

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) == "list":
            self._refuse_unknown_parameters(request, queryset, view)
            queryset = self._contract_filters(request, queryset, view)
        return super().filter_queryset(request, queryset, view)

    def _contract_filters(self, request, queryset, view):
        params = request.query_params
        if params.get(UPDATED_SINCE) is not None and _has_field(queryset, "updated_at"):
            since = _parse(params[UPDATED_SINCE], UPDATED_SINCE, timestamp=True)
            queryset = queryset.filter(updated_at__gte=since)
        if _has_field(queryset, "is_voided"):
            raw = params.get(INCLUDE_VOIDED, "false").strip().lower()
            if raw not in _TRUE | _FALSE:
                raise InvalidInput("Give true or false.", field=INCLUDE_VOIDED)
            if raw in _FALSE and "is_voided" not in params:
                queryset = queryset.filter(is_voided=False)
        date_range = date_range_of(view, queryset)
        if date_range is not None:
            for parameter, lookup in ((date_range.after, "gte"), (date_range.before, "lte")):
                if params.get(parameter) is not None:
                    bound = _parse(params[parameter], parameter, timestamp=date_range.is_timestamp)
                    queryset = queryset.filter(**{f"{date_range.field}__{lookup}": bound})
        return queryset

    def accepted_parameters(self, queryset, view) -> set[str]:
        accepted = set(GENERAL_PARAMETERS)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            accepted |= set(filterset_class.base_filters)
        accepted |= {p["name"] for p in contract_parameters(view, queryset)}
        # The view's other filter backends bring their own parameters (SearchFilter's `search`).
        for backend in getattr(view, "filter_backends", ()):
            for attribute in ("search_param", "ordering_param"):
                name = getattr(backend, attribute, None)
                if isinstance(name, str):
                    accepted.add(name)
        return accepted

    def _refuse_unknown_parameters(self, request, queryset, view) -> None:
        accepted = self.accepted_parameters(queryset, view)
        unknown = sorted(set(request.query_params) - accepted)
        if unknown:
            names = ", ".join(sorted(accepted))
            raise InvalidInput(
                f"Unknown filter(s) {', '.join(unknown)}; this list accepts: {names}.",
                errors=[
                    {
                        "field": name,
                        "message": f"Unknown filter; this list accepts: {names}.",
                        "code": "unknown_filter",
                    }
                    for name in unknown
                ],
            )


def _meta(queryset, fields):
    return type("Meta", (), {"model": queryset.model, "fields": fields})


def contract_parameters(view, queryset) -> list[dict]:
    """The schema of what `ContractFilterBackend` adds to a list besides django-filter's."""
    parameters = []
    if _has_field(queryset, "updated_at"):
        parameters.append(
            _query(
                UPDATED_SINCE,
                {"type": "string", "format": "date-time"},
                "Records changed at or after this timestamp, with its UTC offset (e.g. "
                "2025-03-04T00:00:00Z). Voids are reported with include_voided=true.",
            )
        )
    if _has_field(queryset, "is_voided"):
        parameters.append(
            _query(
                INCLUDE_VOIDED,
                {"type": "boolean", "default": False},
                "Include voided records (left out by default); `is_voided=true` lists only them.",
            )
        )
    date_range = date_range_of(view, queryset)
    if date_range is not None:
        kind = (
            {"type": "string", "format": "date-time"}
            if date_range.is_timestamp
            else {"type": "string", "format": "date"}
        )
        what = "timestamp with its UTC offset" if date_range.is_timestamp else "date"
        for name, word in ((date_range.after, "on or after"), (date_range.before, "on or before")):
            parameters.append(
                _query(name, kind, f"`{date_range.field}` {word} this {what} (inclusive).")
            )
    return parameters


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "required": False,
        "in": "query",
        "description": description,
        "schema": schema,
    }


# --- Ordering ------------------------------------------------------------------------------------


class ContractOrderingFilter(OrderingFilter):
    """`?ordering=` with a field the list cannot be ordered by is a 400 listing those it can
    (DRF would silently drop it)."""

    def get_default_valid_fields(self, queryset, view, context=None):
        # A list without `ordering_fields` orders by its answer's stored columns only (not by
        # nested objects or computed values, which would duplicate rows or fail).
        concrete = {f.name for f in queryset.model._meta.concrete_fields}
        return [
            (name, label)
            for name, label in super().get_default_valid_fields(queryset, view, context or {})
            if name in concrete
        ]

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        queryset = getattr(view, "queryset", None)
        if queryset is None:
            return parameters
        valid = sorted(name for name, _ in self.get_valid_fields(queryset, view, {}))
        for parameter in parameters:
            parameter["description"] = (
                f"Order by {', '.join(valid)}; prefix - for descending, several comma-separated. "
                "Anything else is a 400."
            )
        return parameters

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw:
            valid = {
                name for name, _ in self.get_valid_fields(queryset, view, {"request": request})
            }
            asked = [term.strip() for term in raw.split(",")]
            unknown = [term for term in asked if term.lstrip("-") not in valid]
            if unknown:
                names = ", ".join(sorted(valid))
                message = (
                    f"This list can be ordered by: {names} (prefix - for descending)."
                    if valid
                    else "This list cannot be ordered."
                )
                raise InvalidInput(
                    f"Unknown ordering {', '.join(unknown)}. {message}",
                    errors=[
                        {
                            "field": self.ordering_param,
                            "message": f"Unknown ordering {term}. {message}",
                            "code": "unknown_ordering",
                        }
                        for term in unknown
                    ],
                )
        return super().get_ordering(request, queryset, view)
