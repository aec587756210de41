"""A patient's clinical record over HTTP, with every write going through a service.

`PatientRecordViewSet` is `ecrf.api.AuditedRecordViewSet` (scoped reads, versioned updates,
voids, history) whose create, update and void each call one service function, so the API,
the admin and later hooks share a single write path. The dosing app builds on it too.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.access import Action
from ecrf.api import AuditedRecordViewSet, ChangeReasonSerializer, expected_version
from findings.recording import scoped_patient, visit_by_id

AUDIT_FIELDS = ["version", "is_voided", "voided_at", "void_reason", "created_at", "updated_at"]


class ChangeFieldsMixin(serializers.Serializer):
    """What every update carries besides the changed values: why, and which version was read."""

    reason = serializers.CharField(write_only=True, help_text="Why the value changes (audited).")
    version = serializers.IntegerField(
        write_only=True, required=False, help_text="The version you read (or send If-Match)."
    )


def record_schema(*, output, create, update):
    """OpenAPI for a record view-set: request and response bodies of each write."""
    return extend_schema_view(
        create=extend_schema(request=create, responses={201: output}),
        update=extend_schema(request=update, responses=output),
        partial_update=extend_schema(request=update, responses=output),
        destroy=extend_schema(
            request=ChangeReasonSerializer,
            responses=output,
            parameters=[
                OpenApiParameter("reason", str, description="Alternative to the body field")
            ],
        ),
    )


class PatientRecordViewSet(AuditedRecordViewSet):
    """Records of one patient each; list with `?patient=<id>`; writes through services."""

    study_field = "patient__study"
    site_field = "patient__site"
    filterset_fields = ["patient", "is_voided"]
    create_serializer_class: type[serializers.Serializer]
    update_serializer_class: type[serializers.Serializer]

    def finalize_response(self, request, response, *args, **kwargs):
        """A single record carries its version as ETag, for the client's next If-Match."""
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if response.status_code < 300 and isinstance(data, dict) and "version" in data:
            response["ETag"] = f'"{data["version"]}"'
        return response

    def get_serializer_class(self):
        if self.action == "create":
            return self.create_serializer_class
        if self.action in ("update", "partial_update"):
            return self.update_serializer_class
        return self.output_serializer_class

    def create_record(self, serializer):
        data = dict(serializer.validated_data)
        patient = scoped_patient(self.request.user, data.pop("patient"))
        if "visit" in data:
            data["visit"] = visit_by_id(data["visit"])
        return self.create_for(patient, data)

    def update_record(self, instance, changes: dict, *, reason, version):
        if "visit" in changes:
            changes["visit"] = visit_by_id(changes["visit"])
        return self.update_with(instance, changes, reason=reason, version=version)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Voids the record (never a hard delete): it stays, flagged, in the audit trail."""
        instance = self.get_object()
        self.require(Action.VOID, instance)
        body = request.data if isinstance(request.data, dict) else {}
        reason = body.get("reason") or request.query_params.get("reason")
        version = expected_version(
            request, body.get("version") or request.query_params.get("version")
        )
        voided = self.void_with(instance, reason=reason, version=version)
        return Response(self.get_output_serializer(voided).data, status=status.HTTP_200_OK)

    # The three writes; each subclass calls its service function.
    def create_for(self, patient, data: dict):  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def update_with(self, instance, changes: dict, *, reason, version):  # pragma: no cover
        raise NotImplementedError

    def void_with(self, instance, *, reason, version):  # pragma: no cover
        raise NotImplementedError


class PatientRecordSerializer(serializers.ModelSerializer):
    """Output base: the record with its patient's subject id and its audit fields."""

    subject_id = serializers.CharField(source="patient.subject_id", read_only=True)


def patient_field() -> serializers.IntegerField:
    return serializers.IntegerField(help_text="Patient id (see GET /api/patients/).")


def visit_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, allow_null=True, help_text="Visit id of this patient (optional)."
    )
