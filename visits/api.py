"""Visit calendars: the patient's visits with derived status, recording, unscheduled visits."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrf.access import Action, require_on_patient
from ecrf.api import (
    REASON_PARAMETER,
    ChangeReasonSerializer,
    ScopedReadMixin,
    VersionETagMixin,
    expected_version,
    void_request,
)
from patients.selectors import visible_patient
from visits.models import Visit, VisitStatus
from visits.selectors import VisitDisplayStatus, patient_visits, visit_display_status
from visits.services import unscheduled_visit_create, visit_correct, visit_record, visit_void

RECORDABLE = [VisitStatus.COMPLETED.value, VisitStatus.MISSED.value]


class VisitSerializer(serializers.ModelSerializer):
    subject_id = serializers.CharField(source="patient.subject_id", read_only=True)
    status = serializers.SerializerMethodField(
        help_text="scheduled (window not open), due, overdue, completed or missed."
    )
    recorded_status = serializers.CharField(source="status", read_only=True)
    unscheduled = serializers.BooleanField(source="is_unscheduled", read_only=True)
    protocol_deviation = serializers.BooleanField(source="out_of_window", read_only=True)
    recorded_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Visit
        fields = [
            "id",
            "patient",
            "subject_id",
            "code",
            "name",
            "unscheduled",
            "unscheduled_number",
            "target_date",
            "window_start",
            "window_end",
            "actual_date",
            "status",
            "recorded_status",
            "out_of_window",
            "protocol_deviation",
            "recorded_by",
            "recorded_at",
            "notes",
            "version",
            "is_voided",
            "void_reason",
        ]
        read_only_fields = fields

    def get_status(self, visit) -> VisitDisplayStatus:
        return visit_display_status(visit, self.context.get("today"))


class VisitOutcomeSerializer(serializers.Serializer):
    """What happened at a visit: recorded once (POST .../record/), corrected with a reason and
    the version read (PATCH)."""

    status = serializers.ChoiceField(choices=RECORDABLE)
    actual_date = serializers.DateField(
        required=False, allow_null=True, help_text="Required for a completed visit."
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.CharField(
        required=False, help_text="Corrections (PATCH) only: why the visit changes (audited)."
    )
    version = serializers.IntegerField(
        required=False, help_text="Corrections (PATCH) only: the version you read (or If-Match)."
    )


class UnscheduledVisitCreateSerializer(serializers.Serializer):
    actual_date = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True)


def _context(request: Request) -> dict:
    return {"request": request, "today": timezone.localdate()}


class VisitViewSet(
    VersionETagMixin,
    ScopedReadMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Visits of the patients you have access to. Scheduled visits are created at allocation,
    unscheduled ones through POST /api/patients/{id}/unscheduled-visits/."""

    queryset = Visit.objects.select_related("patient", "recorded_by")
    serializer_class = VisitSerializer
    study_field = "patient__study"
    site_field = "patient__site"
    filterset_fields = ["patient", "status", "out_of_window", "is_voided", "code"]
    ordering_fields = ["target_date", "actual_date", "code"]
    date_range_field = "actual_date"
    ordering = ["patient", "target_date", "code"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    @extend_schema(request=VisitOutcomeSerializer, responses=VisitSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request: Request, pk=None) -> Response:
        """Records a scheduled visit as completed (with its date) or missed. A date outside the
        window is accepted and flagged as a protocol deviation."""
        visit = self.get_object()
        require_on_patient(request.user, Action.ENTER_DATA, visit.patient)
        body = VisitOutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = {k: v for k, v in body.validated_data.items() if k not in ("reason", "version")}
        recorded = visit_record(actor=request.user, visit=visit, **data)
        return Response(VisitSerializer(recorded, context=_context(request)).data)

    @extend_schema(request=VisitOutcomeSerializer, responses=VisitSerializer)
    def partial_update(self, request: Request, pk=None) -> Response:
        """Corrects a recorded visit (reason and the version you read are required)."""
        visit = self.get_object()
        self.require(Action.ENTER_DATA, visit)
        body = VisitOutcomeSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        reason = changes.pop("reason", None)
        version = expected_version(request, changes.pop("version", None))
        corrected = visit_correct(
            actor=request.user,
            visit=visit,
            changes=changes,
            reason=reason,
            expected_version=version,
        )
        return Response(VisitSerializer(corrected, context=_context(request)).data)

    @extend_schema(
        request=ChangeReasonSerializer, parameters=[REASON_PARAMETER], responses=VisitSerializer
    )
    def destroy(self, request: Request, pk=None) -> Response:
        """Voids an unscheduled visit entered in error (it stays in the audit trail)."""
        visit = self.get_object()
        reason, version = void_request(request)
        voided = visit_void(
            actor=request.user, visit=visit, reason=reason, expected_version=version
        )
        return Response(VisitSerializer(voided, context=_context(request)).data)


class PatientVisitsView(APIView):
    """The patient's visit calendar in date order, with each visit's current status."""

    @extend_schema(responses=VisitSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        patient = visible_patient(request.user, pk)
        visits = patient_visits(patient).select_related("patient", "recorded_by")
        return Response(VisitSerializer(visits, many=True, context=_context(request)).data)


class PatientUnscheduledVisitsView(APIView):
    """Records an unscheduled visit; they are numbered U1, U2 … per patient."""

    @extend_schema(request=UnscheduledVisitCreateSerializer, responses={201: VisitSerializer})
    def post(self, request: Request, pk: int) -> Response:
        patient = visible_patient(request.user, pk)
        require_on_patient(request.user, Action.ENTER_DATA, patient)
        body = UnscheduledVisitCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        visit = unscheduled_visit_create(actor=request.user, patient=patient, **body.validated_data)
        return Response(
            VisitSerializer(visit, context=_context(request)).data, status=status.HTTP_201_CREATED
        )
