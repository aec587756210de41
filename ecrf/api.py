"""API building blocks shared by every app: audited view-sets, the history endpoint."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.access import Action, can, scope_queryset
from ecrf.audit import history_entries, update_audited, void_audited
from ecrf.exceptions import InvalidInput, PermissionRefused


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

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk=None) -> Response:
        """The audit trail of this record: who changed what, when, from what to what, and why."""
        instance = self.get_object()
        self.require(Action.VIEW_AUDIT, instance)
        entries = history_entries(instance)
        page = self.paginate_queryset(entries)
        data = HistoryEntrySerializer(page if page is not None else entries, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)


class AuditedRecordViewSet(ScopedReadMixin, viewsets.ModelViewSet):
    """A site-bound clinical resource: scoped reads, audited updates, voids instead of deletes.

    Subclasses implement `create_record(serializer)`; updates go through `update_audited` with the
    reason and version from the request, deletions void the record.
    """

    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]
    output_serializer_class: type[serializers.Serializer] | None = None

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
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("reason", None)
        version = expected_version(request, data.pop("version", None))
        updated = self.update_record(instance, data, reason=reason, version=version)
        return Response(self.get_output_serializer(updated).data)

    def update_record(self, instance, changes: dict, *, reason, version):
        return update_audited(
            instance,
            changes=changes,
            actor=self.request.user,
            reason=reason,
            expected_version=version,
        )

    @extend_schema(
        request=ChangeReasonSerializer,
        parameters=[OpenApiParameter("reason", str, description="Alternative to the body field")],
    )
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Voids the record (never a hard delete): it stays, flagged, in the audit trail."""
        instance = self.get_object()
        self.require(Action.VOID, instance)
        body = request.data if isinstance(request.data, dict) else {}
        reason = body.get("reason") or request.query_params.get("reason")
        version = expected_version(
            request, body.get("version") or request.query_params.get("version")
        )
        voided = void_audited(instance, actor=request.user, reason=reason, expected_version=version)
        return Response(self.get_output_serializer(voided).data, status=status.HTTP_200_OK)
