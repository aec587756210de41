"""API building blocks shared by every app.

- `ScopedReadMixin`: lists and details scoped to the user's studies and sites; the history.
- `AuditedRecordViewSet`: versioned updates (reason + version or If-Match), voids instead of
  deletes, the version as ETag on every single-record answer.
- `ChangeFieldsMixin`, `ChangeReasonSerializer`: the reason and version of a change.
  (A patient's clinical records build on these in `visits.record_api`.)
- `record_schema`: the OpenAPI of an audited view-set's writes, from its serializer attributes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.access import Action, can, scope_queryset
from ecrf.audit import history_entries, update_audited, void_audited
from ecrf.exceptions import InvalidInput, PermissionRefused
from ecrf.record_writes import RecordWrites

# A record's audit state in answers: a patient's clinical records show when they were voided;
# patients, lab results and adverse events show the same without `voided_at`.
AUDIT_FIELDS = ["version", "is_voided", "voided_at", "void_reason", "created_at", "updated_at"]
AUDIT_FIELDS_WITHOUT_VOID_TIME = ["version", "is_voided", "void_reason", "created_at", "updated_at"]
SINGLE_RECORD_ACTIONS = frozenset({"retrieve", "create", "update", "partial_update", "destroy"})
REASON_PARAMETER = OpenApiParameter("reason", str, description="Alternative to the body field")


class OffsetDateTimeField(serializers.DateTimeField):
    """A timestamp in a request must carry its UTC offset: a Beijing site's 08:00 is not 08:00Z,
    and guessing would shift the record by hours. Answers give every timestamp in UTC (`Z`)."""

    default_error_messages = {
        "naive": "Give the UTC offset (e.g. 2025-03-04T08:30:00+08:00 or ...T00:30:00Z)."
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well formed but impossible (12:99): the field's own 400 below
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    changed_at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    type = serializers.ChoiceField(choices=["created", "changed", "voided", "deleted"])
    reason = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField(allow_null=True)
    changes = HistoryChangeSerializer(many=True)


class ChangeReasonSerializer(serializers.Serializer):
    """Body of a void (DELETE) request: why, and which version was read."""

    reason = serializers.CharField(
        help_text="Why the record is voided (stored in the audit trail)."
    )
    version = serializers.IntegerField(required=False, help_text="The version you read.")


class ChangeFieldsMixin(serializers.Serializer):
    """What every update carries besides the changed values: why, and which version was read."""

    reason = serializers.CharField(write_only=True, help_text="Why the value changes (audited).")
    version = serializers.IntegerField(
        write_only=True, required=False, help_text="The version you read (or send If-Match)."
    )


def expected_version(request: Request, body_version) -> int | None:
    """The version the client read: `version` in the body, or an If-Match header."""
    header = request.headers.get("If-Match")
    if header:
        token = header.strip().removeprefix("W/").strip('"')
        try:
            return int(token)
        except ValueError as exc:
            raise InvalidInput(
                "If-Match must carry the record's version.", field="version"
            ) from exc
    return body_version


def refuse_unchangeable_fields(data, serializer, instance) -> None:
    """An update naming a field it cannot change (a lab's patient, a patient's site) is a 400
    naming that field, before anything is written: no version bump, no empty history entry
    (issue 13, finding 9). Without this, DRF would silently ignore the field."""
    if not isinstance(data, dict):
        return
    writable = {name for name, field in serializer.fields.items() if not field.read_only}
    model_fields = {f.name for f in instance._meta.get_fields()} | {
        f.attname for f in instance._meta.concrete_fields
    }
    errors = [
        {
            "field": name,
            "message": (
                "This field cannot be changed once recorded."
                if name in model_fields
                else "Unknown field."
            ),
            "code": "read_only" if name in model_fields else "unknown_field",
        }
        for name in sorted(set(data) - writable)
    ]
    if errors:
        raise InvalidInput(errors[0]["message"], field=errors[0]["field"], errors=errors)


def void_request(request: Request) -> tuple[str | None, int | None]:
    """The reason and the version read of a void (DELETE): in the body or the query string."""
    body = request.data if isinstance(request.data, dict) else {}
    reason = body.get("reason") or request.query_params.get("reason")
    version = expected_version(request, body.get("version") or request.query_params.get("version"))
    return reason, version


class VersionETagMixin:
    """Every single-record answer (detail, create, update, void) carries the record's version as
    ETag, for the client to echo in If-Match (`expected_version` reads `"3"`, `W/"3"` or 3)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if (
            getattr(self, "action", None) in SINGLE_RECORD_ACTIONS
            and 200 <= response.status_code < 300
            and isinstance(data, dict)
            and isinstance(data.get("version"), int)
        ):
            response["ETag"] = f'"{data["version"]}"'
        return response


class ScopedReadMixin:
    """Lists and details only what the requesting user may see (404 for everything else)."""

    study_field = "study"
    site_field: str | None = "site"

    def base_queryset(self):
        return self.queryset.all()

    def get_queryset(self):
        return scope_queryset(
            self.base_queryset(),
            self.request.user,
            Action.VIEW,
            study_field=self.study_field,
            site_field=self.site_field,
        )

    def study_and_site_of(self, instance) -> tuple[int, int | None]:
        study = self._follow(instance, self.study_field)
        site = self._follow(instance, self.site_field) if self.site_field else None
        return study, site

    @staticmethod
    def _follow(instance, path: str) -> int | None:
        parts = path.split("__")
        obj = instance
        for part in parts[:-1]:
            obj = getattr(obj, part)
        return getattr(obj, f"{parts[-1]}_id")

    def require(self, action_name: Action, instance) -> None:
        study_id, site_id = self.study_and_site_of(instance)
        if not can(self.request.user, action_name, study_id=study_id, site_id=site_id):
            raise PermissionRefused(
                f"Your role in this study does not allow '{action_name.value}'.", field=None
            )

    # Stored fields the answer shows under another shape (e.g. a lab's CTCAE suggestion, one
    # `ctcae` object): stored name → the dotted path of the answer, for the history.
    history_field_names: dict[str, str] = {}

    def history_presenter(self, instance):
        """Stored values as this resource's answers say them: the answer's field names
        (`accession`, not `source_accession`; `visit`, not `visit_id`) and formats (decimals,
        timestamps in UTC with Z), references as the answer gives them (ids, or codes where the
        answer shows a code, e.g. a patient's `arm`). A stored field the answer does not show
        keeps its stored name."""
        serializer_class = getattr(self, "output_serializer_class", None) or self.serializer_class
        answer_fields = serializer_class().fields if serializer_class is not None else {}
        by_source = {
            field.source: (name, field)
            for name, field in answer_fields.items()
            if field.source and "." not in field.source and field.source != "*"
        }
        model_fields = {f.attname: f for f in instance._meta.concrete_fields}
        timestamp = serializers.DateTimeField()
        codes: dict[tuple, object] = {}

        def code_of(model_field, slug_field: str, pk):
            key = (model_field.related_model, slug_field, pk)
            if key not in codes:
                codes[key] = (
                    model_field.related_model._default_manager.filter(pk=pk)
                    .values_list(slug_field, flat=True)
                    .first()
                )
            return codes[key]

        def present(attname: str, value):
            model_field = model_fields.get(attname)
            stored_name = model_field.name if model_field is not None else attname
            name, answer_field = by_source.get(stored_name, (None, None))
            name = name or self.history_field_names.get(stored_name, stored_name)
            if value is None:
                return name, None
            if model_field is not None and model_field.is_relation:
                if isinstance(answer_field, serializers.SlugRelatedField):
                    return name, code_of(model_field, answer_field.slug_field, value)
                return name, value
            if answer_field is not None and not isinstance(
                answer_field, (serializers.RelatedField, serializers.SerializerMethodField)
            ):
                return name, answer_field.to_representation(value)
            if isinstance(value, dt.datetime):
                return name, timestamp.to_representation(value)
            if isinstance(value, (dt.date, Decimal)):
                return name, str(value) if isinstance(value, Decimal) else value.isoformat()
            return name, value

        return present

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk=None) -> Response:
        """The audit trail of this record: who changed what, when, from what to what, and why."""
        instance = self.get_object()
        self.require(Action.VIEW_AUDIT, instance)
        entries = history_entries(instance, present=self.history_presenter(instance))
        page = self.paginate_queryset(entries)
        data = HistoryEntrySerializer(page if page is not None else entries, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)


class AuditedRecordViewSet(VersionETagMixin, ScopedReadMixin, viewsets.ModelViewSet):
    """A site-bound clinical resource: scoped reads, audited updates, voids instead of deletes.

    Subclasses implement `create_record(serializer)`; updates and voids go through the services
    `writes` names, else through `update_audited` / `void_audited`, with the reason and version
    from the request. Requests are read with `create_serializer_class` and
    `update_serializer_class` where set; answers are `output_serializer_class`.
    """

    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]
    output_serializer_class: type[serializers.Serializer] | None = None
    create_serializer_class: type[serializers.Serializer] | None = None
    update_serializer_class: type[serializers.Serializer] | None = None
    writes: RecordWrites | None = None

    def get_serializer_class(self):
        if self.action == "create" and self.create_serializer_class is not None:
            return self.create_serializer_class
        if self.action in ("update", "partial_update") and self.update_serializer_class:
            return self.update_serializer_class
        return self.output_serializer_class or super().get_serializer_class()

    def get_output_serializer(self, instance):
        cls = self.output_serializer_class or self.get_serializer_class()
        return cls(instance, context=self.get_serializer_context())

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.create_record(serializer)
        return Response(self.get_output_serializer(instance).data, status=status.HTTP_201_CREATED)

    def create_record(self, serializer):  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def update(self, request: Request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        self.require(Action.ENTER_DATA, instance)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        refuse_unchangeable_fields(request.data, serializer, instance)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("reason", None)
        version = expected_version(request, data.pop("version", None))
        updated = self.update_record(instance, data, reason=reason, version=version)
        return Response(self.get_output_serializer(updated).data)

    def update_record(self, instance, changes: dict, *, reason, version):
        user = self.request.user
        if self.writes is not None:
            return self.writes.update_record(
                user, instance, changes, reason=reason, version=version
            )
        return update_audited(
            instance, changes=changes, actor=user, reason=reason, expected_version=version
        )

    @extend_schema(request=ChangeReasonSerializer, parameters=[REASON_PARAMETER])
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Voids the record (never a hard delete): it stays, flagged, in the audit trail."""
        instance = self.get_object()
        self.require(Action.VOID, instance)
        reason, version = void_request(request)
        voided = self.void_record(instance, reason=reason, version=version)
        return Response(self.get_output_serializer(voided).data, status=status.HTTP_200_OK)

    def void_record(self, instance, *, reason, version):
        user = self.request.user
        if self.writes is not None and self.writes.void is not None:
            return self.writes.void_record(user, instance, reason=reason, version=version)
        return void_audited(instance, actor=user, reason=reason, expected_version=version)


def record_schema(viewset: type[AuditedRecordViewSet]) -> type[AuditedRecordViewSet]:
    """Class decorator: the OpenAPI of each write of an audited view-set, read from its
    `create_serializer_class` and `update_serializer_class` (requests) and its
    `output_serializer_class` (answers)."""
    output = viewset.output_serializer_class
    writes = {
        "destroy": extend_schema(
            request=ChangeReasonSerializer, responses=output, parameters=[REASON_PARAMETER]
        )
    }
    if viewset.create_serializer_class is not None:
        created = {201: output}
        if getattr(viewset, "create_may_answer_stored", False):
            created[200] = output  # the stored record, for a resent one (e.g. a lab accession)
        writes["create"] = extend_schema(request=viewset.create_serializer_class, responses=created)
    if viewset.update_serializer_class is not None:
        update = extend_schema(request=viewset.update_serializer_class, responses=output)
        writes["update"] = writes["partial_update"] = update
    return extend_schema_view(**writes)(viewset)
