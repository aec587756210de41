"""The OpenAPI schema tells what the server does (issue 11), for every operation at once.

`ContractAutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) adds to what drf-spectacular reads
from the views:

- the error envelope (`ErrorEnvelope`, see ecrf/exceptions.py) for each 4xx an operation can
  answer: 400 always (bad bodies, bad filters), 401/403 when it needs a user, 404 always (the
  record named in the path, or a page past the last), 409, 413 and 415 on writes (stale version,
  state conflicts; a body too large (ecrf/request_limits.py); a body not JSON), 429 when the
  view is throttled;
- a void (DELETE) answers 200 with the voided record, and asks for `reason` and `version`;
- `If-Match` on updates and voids, `ETag` on every single-record answer of a versioned record;
- `Idempotency-Key` on every POST that needs a user (ecrf/idempotency.py), with the 422 of a key
  reused for another request and the `Idempotent-Replayed` header of a replayed answer.
"""

from __future__ import annotations

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SINGLE_RECORD_ACTIONS = frozenset({"retrieve", "create", "update", "partial_update", "destroy"})

ERROR_DESCRIPTIONS = {
    "400": "Invalid request: `errors` names each field (a dotted path) and what is wrong.",
    "401": "No or invalid credentials (send `Authorization: Token <key>`).",
    "403": "Your role or sites do not allow this.",
    "404": "No such record among those you may see.",
    "409": "Conflict: a stale `version`/If-Match, or the record's state does not allow this.",
    "413": "The body is larger than the server accepts (`MAX_REQUEST_BYTES`, 2 MB by default).",
    "415": "The body is not JSON (send `Content-Type: application/json`).",
    "422": "This Idempotency-Key was used for another request (other path or body).",
    "429": "Too many requests; retry after `Retry-After` seconds.",
}


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="Dotted path into the request, or null for the whole request."
    )
    message = serializers.CharField()
    code = serializers.CharField(help_text="Machine-readable, e.g. required, invalid, not_found.")


class ErrorEnvelopeSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(help_text="e.g. invalid, not_found, conflict, stale_version.")
    detail = serializers.CharField(help_text="Every error in one line, for people.")
    errors = ErrorItemSerializer(many=True)


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description='The ETag you read (e.g. "3"): the write is refused with 409 if the record '
    "changed since. Alternative to `version` in the body.",
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    location=OpenApiParameter.HEADER,
    response=["200", "201"],
    description='The record\'s version, quoted (e.g. "3"); echo it in If-Match.',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string of yours (e.g. a UUID), at most 255 printable ASCII "
    "characters. A retry with the same key and body within 24 hours gets the first successful "
    "answer again (with `Idempotent-Replayed: true`) and stores nothing new; the same key with "
    "another body is a 422. Keys are per user; an error answer does not spend the key.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    location=OpenApiParameter.HEADER,
    response=["200", "201"],
    description="Present (`true`) when this is the stored answer to an earlier request with "
    "the same Idempotency-Key.",
)
VOID_VERSION = OpenApiParameter(
    "version", int, description="The version you read (alternative to the body or If-Match)."
)


class ContractAutoSchema(AutoSchema):
    def _action(self) -> str | None:
        return getattr(self.view, "action", None)

    def _is_versioned_record_view(self) -> bool:
        # Duck-typed on ecrf.api.AuditedRecordViewSet (importing it here would be circular).
        return hasattr(self.view, "output_serializer_class") and hasattr(self.view, "void_record")

    def get_filter_backends(self):
        # Only a view-set's `list` filters its queryset; its other paginated actions (history,
        # consent, eligibility, ae-suggestions, ...) take no filter, so none is documented.
        if getattr(self.view, "action", None) not in (None, "list"):
            return []
        return super().get_filter_backends()

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        names = {p.name for p in parameters if isinstance(p, OpenApiParameter)}

        def add(parameter: OpenApiParameter) -> None:
            if parameter.name not in names:
                parameters.append(parameter)
                names.add(parameter.name)

        if self._is_versioned_record_view():
            action_name = self._action()
            if action_name in ("update", "partial_update", "destroy"):
                add(IF_MATCH)
            if action_name == "destroy":
                add(VOID_VERSION)
            if action_name in SINGLE_RECORD_ACTIONS:
                add(ETAG)
        if self._takes_idempotency_key():
            add(IDEMPOTENCY_KEY)
            add(IDEMPOTENT_REPLAYED)
        return parameters

    def _takes_idempotency_key(self) -> bool:
        # ecrf.idempotency applies to POSTs by a user; the anonymous token login has no user.
        return self.method == "POST" and bool(self.get_auth())

    def _get_response_bodies(self, direction="response"):
        if self.method == "DELETE" and self._is_versioned_record_view():
            output = self.view.output_serializer_class
            responses = {"200": self._get_response_for_code(output, "200", direction=direction)}
            responses["200"]["description"] = (
                "The voided record, kept and flagged in the audit trail."
            )
        else:
            responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            responses.setdefault(code, self._error_response(code, direction))
        return responses

    def _error_codes(self) -> list[str]:
        codes = ["400"]
        if self.get_auth():
            codes += ["401", "403"]
        codes.append("404")  # the record named in the path, or a page past the last
        if self.method in WRITE_METHODS:
            codes += ["409", "413", "415"]
        if self._takes_idempotency_key():
            codes.append("422")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _error_response(self, code: str, direction) -> dict:
        component = self.resolve_serializer(ErrorEnvelopeSerializer, direction)
        return {
            "content": {"application/json": {"schema": component.ref}},
            "description": ERROR_DESCRIPTIONS[code],
        }


class ContractFilterExtension(DjangoFilterExtension):
    """django-filter's parameters, plus `updated_since`, `include_voided` and the clinical date
    range (ecrf.filters)."""

    target_class = "ecrf.filters.ContractFilterBackend"
    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        from ecrf.filters import contract_parameters

        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        queryset = getattr(auto_schema.view, "queryset", None)
        return [*parameters, *contract_parameters(auto_schema.view, queryset)]
