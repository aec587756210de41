"""List filters every client can rely on (issue 11).

`ContractFilterBackend` (REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"], instead of django-filter's
own backend) adds to each list's filters:

- `updated_since` on every list of records that keep `updated_at`: what changed (voids included)
  at or after that timestamp, which must carry its UTC offset — for incremental sync;
- a 400 naming every query parameter the list does not know, with the accepted ones, instead of
  silently answering the whole list.
"""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers

from ecrf.exceptions import InvalidInput

UPDATED_SINCE = "updated_since"
# Understood by every list besides its filters: pagination, ordering, the renderer's format.
GENERAL_PARAMETERS = frozenset({"page", "page_size", "ordering", "format"})


def _has_updated_at(queryset) -> bool:
    return any(f.name == "updated_at" for f in queryset.model._meta.concrete_fields)


class ContractFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) == "list":
            self._refuse_unknown_parameters(request, queryset, view)
            raw = request.query_params.get(UPDATED_SINCE)
            if raw is not None and _has_updated_at(queryset):
                from ecrf.api import OffsetDateTimeField  # here: DRF loads this module early

                field = OffsetDateTimeField()
                try:
                    since = field.run_validation(raw)
                except serializers.ValidationError as exc:
                    raise InvalidInput(str(exc.detail[0]), field=UPDATED_SINCE) from exc
                queryset = queryset.filter(updated_at__gte=since)
        return super().filter_queryset(request, queryset, view)

    def _refuse_unknown_parameters(self, request, queryset, view) -> None:
        accepted = set(GENERAL_PARAMETERS)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            accepted |= set(filterset_class.base_filters)
        if _has_updated_at(queryset):
            accepted.add(UPDATED_SINCE)
        # The view's other filter backends bring their own parameters (SearchFilter's `search`).
        for backend in getattr(view, "filter_backends", ()):
            for attribute in ("search_param", "ordering_param"):
                name = getattr(backend, attribute, None)
                if isinstance(name, str):
                    accepted.add(name)
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


def updated_since_parameter(queryset) -> list[dict]:
    """The schema of `updated_since`, for lists of records that keep `updated_at`."""
    if queryset is None or not _has_updated_at(queryset):
        return []
    return [
        {
            "name": UPDATED_SINCE,
            "required": False,
            "in": "query",
            "description": "Records changed (voids included) at or after this "
            "timestamp, with its UTC offset (e.g. 2025-03-04T00:00:00Z).",
            "schema": {"type": "string", "format": "date-time"},
        }
    ]
