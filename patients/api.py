"""Patients: screening, corrections, consent, eligibility, status moves; the CONSORT counts."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrf.access import Action, can, grants_for, is_unrestricted, require_on_patient
from ecrf.api import (
    AUDIT_FIELDS_WITHOUT_VOID_TIME,
    REASON_PARAMETER,
    AuditedRecordViewSet,
    ChangeFieldsMixin,
    ChangeReasonSerializer,
    record_schema,
    void_request,
)
from ecrf.exceptions import PermissionRefused
from patients.eligibility import eligibility_evaluate
from patients.models import Consent, EligibilityAssessment, ExitReason, Patient
from patients.selectors import consort_counts
from patients.services import (
    PATIENT_WRITES,
    check_body_size,
    check_not_future,
    consent_record,
    patient_change_status,
)
from patients.status_machine import MANUAL_TARGETS
from trials.models import Site
from trials.selectors import studies_for, visible_study


class PatientSerializer(serializers.ModelSerializer):
    # References by id, as in requests and filters; the codes beside them for people.
    study = serializers.PrimaryKeyRelatedField(read_only=True, help_text="Study id.")
    study_registry_id = serializers.CharField(source="study.registry_id", read_only=True)
    site = serializers.PrimaryKeyRelatedField(read_only=True, help_text="Site id.")
    site_code = serializers.CharField(source="site.code", read_only=True)
    arm = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    protocol_version = serializers.IntegerField(source="protocol_version.number", read_only=True)
    diagnosis_name = serializers.CharField(
        read_only=True, help_text="The diagnosis as the protocol names it; empty when none."
    )
    randomization_number = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "subject_id",
            "study",
            "study_registry_id",
            "site",
            "site_code",
            "sex",
            "birth_date",
            "height_cm",
            "weight_kg",
            "diagnosis",
            "diagnosis_name",
            "status",
            "screened_on",
            "protocol_version",
            "arm",
            "randomization_number",
            "day1",
            "status_reason",
            "status_reason_codes",
            "status_changed_on",
            *AUDIT_FIELDS_WITHOUT_VOID_TIME,
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_randomization_number(self, patient) -> int | None:
        slot = getattr(patient, "allocation", None)  # reverse one-to-one, select_related
        return slot.number if slot is not None else None


class PatientCreateSerializer(serializers.Serializer):
    study = serializers.IntegerField(help_text="Study id (see GET /api/studies/).")
    site = serializers.IntegerField(help_text="Site id within the study.")
    sex = serializers.ChoiceField(choices=Patient._meta.get_field("sex").choices)
    birth_date = serializers.DateField()
    height_cm = serializers.DecimalField(max_digits=5, decimal_places=1)
    weight_kg = serializers.DecimalField(max_digits=5, decimal_places=1)
    screened_on = serializers.DateField(required=False, help_text="Defaults to today.")
    diagnosis = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text=(
            "Required when the study's protocol declares diagnoses "
            "(`current_protocol_version.diagnoses` of GET /api/studies/{id}/): one of their codes."
        ),
    )


class PatientUpdateSerializer(ChangeFieldsMixin, serializers.ModelSerializer):
    """Corrections of demographics; status moves go through their own actions."""

    class Meta:
        model = Patient
        fields = ["sex", "birth_date", "height_cm", "weight_kg", "diagnosis", "reason", "version"]

    def validate_birth_date(self, value):
        check_not_future(value, "birth_date")
        return value

    def validate(self, attrs):
        check_body_size(height_cm=attrs.get("height_cm"), weight_kg=attrs.get("weight_kg"))
        return attrs


class ConsentCreateSerializer(serializers.Serializer):
    consented_at = serializers.DateField(help_text="Date the consent form was signed.")
    consent_version = serializers.CharField(
        max_length=40, help_text="Version of the consent form signed."
    )


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = ["id", "consented_at", "consent_version", "version", "is_voided", "created_at"]
        read_only_fields = fields


class EligibilityRequestSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.BooleanField(allow_null=True),
        required=False,
        help_text=(
            "Investigator-confirmed criteria: {code: true (met) / false (not met) / null "
            "(withdraw an answer)}. Answers not sent carry over from the previous evaluation."
        ),
    )
    evaluated_on = serializers.DateField(
        required=False, help_text="Evaluate the data as of this date (default today)."
    )


class CriterionResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=["inclusion", "exclusion"])
    text = serializers.CharField()
    met = serializers.BooleanField(allow_null=True)
    source = serializers.ChoiceField(choices=["automatic", "investigator"])
    detail = serializers.CharField()
    answered_by = serializers.CharField(allow_null=True, required=False)


class EligibilityAssessmentSerializer(serializers.ModelSerializer):
    protocol_version = serializers.IntegerField(source="protocol_version.number", read_only=True)
    evaluated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    patient_status = serializers.CharField(source="patient.status", read_only=True)
    criteria = CriterionResultSerializer(many=True, read_only=True)
    answers = serializers.DictField(child=serializers.BooleanField(), read_only=True)

    class Meta:
        model = EligibilityAssessment
        fields = [
            "id",
            "patient",
            "protocol_version",
            "evaluated_on",
            "evaluated_by",
            "status",
            "eligible",
            "patient_status",
            "criteria",
            "answers",
            "created_at",
        ]
        read_only_fields = fields


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=list(MANUAL_TARGETS))
    on = serializers.DateField(help_text="Date of the move (not in the future).")
    reason = serializers.CharField(help_text="Why (kept with the status and in the audit trail).")
    reason_code = serializers.ChoiceField(
        choices=ExitReason.choices,
        required=False,
        help_text="Required for withdrawn and screen_failed (counted in the CONSORT diagram).",
    )


@record_schema
class PatientViewSet(AuditedRecordViewSet):
    """Patients of the studies and sites you have access to."""

    queryset = Patient.objects.select_related(
        "study", "site", "arm", "protocol_version", "allocation"
    )
    output_serializer_class = PatientSerializer
    create_serializer_class = PatientCreateSerializer
    update_serializer_class = PatientUpdateSerializer
    writes = PATIENT_WRITES
    filterset_fields = ["study", "site", "subject_id", "status", "sex", "arm", "is_voided"]
    ordering_fields = ["subject_id", "screened_on", "created_at"]
    date_range_field = "screened_on"
    # References answered as codes are filtered by code too, in any case (issue 11).
    code_filters = {"arm": ("arm__code",), "site_code": ("site__code",)}
    ordering = ["subject_id"]

    def create_record(self, serializer):
        data = dict(serializer.validated_data)
        data["study"] = visible_study(self.request.user, data["study"])
        data["site"] = Site.objects.filter(pk=data["site"]).first() or Site(pk=0, study_id=0)
        return self.writes.create_record(self.request.user, **data)

    @extend_schema(request=ChangeReasonSerializer, parameters=[REASON_PARAMETER])
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Voids a patient entered in error (never an allocated one; withdraw them instead)."""
        patient = self.get_object()  # the service checks the role (no generic VOID check)
        reason, version = void_request(request)
        voided = self.void_record(patient, reason=reason, version=version)
        return Response(self.get_output_serializer(voided).data)

    def _reloaded(self, patient: Patient) -> Patient:
        return self.get_queryset().get(pk=patient.pk)

    @extend_schema(methods=["GET"], responses=ConsentSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=ConsentCreateSerializer, responses={201: ConsentSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def consent(self, request: Request, pk=None) -> Response:
        """Informed consent: GET lists what was recorded, POST records a signed consent."""
        patient = self.get_object()
        if request.method == "GET":
            consents = patient.consents.filter(is_voided=False).order_by("consented_at", "id")
            page = self.paginate_queryset(consents)
            return self.get_paginated_response(ConsentSerializer(page, many=True).data)
        require_on_patient(request.user, Action.ENTER_DATA, patient)
        body = ConsentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        consent = consent_record(actor=request.user, patient=patient, **body.validated_data)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=EligibilityAssessmentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=EligibilityRequestSerializer,
        responses={201: EligibilityAssessmentSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def eligibility(self, request: Request, pk=None) -> Response:
        """Evaluates every criterion of the current protocol version (POST), or lists the stored
        evaluations, newest first (GET). Answering investigator items needs an investigator."""
        patient = self.get_object()
        if request.method == "GET":
            assessments = patient.eligibility_assessments.select_related(
                "protocol_version", "evaluated_by", "patient"
            ).order_by("-id")
            page = self.paginate_queryset(assessments)
            data = EligibilityAssessmentSerializer(page, many=True).data
            return self.get_paginated_response(data)
        body = EligibilityRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assessment = eligibility_evaluate(
            actor=request.user, patient=patient, **body.validated_data
        )
        assessment.patient = self._reloaded(patient)
        return Response(
            EligibilityAssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=StatusChangeSerializer, responses=PatientSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request: Request, pk=None) -> Response:
        """Moves the patient on: on_treatment, follow_up, completed, withdrawn (coded reason),
        or screen_failed for a reason that is not a criterion (coded reason)."""
        patient = self.get_object()
        require_on_patient(request.user, Action.ENTER_DATA, patient)
        body = StatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        patient_change_status(
            actor=request.user,
            patient=patient,
            to_status=data["status"],
            on=data["on"],
            reason=data["reason"],
            reason_code=data.get("reason_code"),
        )
        return Response(PatientSerializer(self._reloaded(patient)).data)


# --- CONSORT ----------------------------------------------------------------------------------


class ReasonCountSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="A criterion code or an exit reason code.")
    count = serializers.IntegerField()


class ConsortArmSerializer(serializers.Serializer):
    arm = serializers.CharField()
    name = serializers.CharField()
    allocated = serializers.IntegerField()
    awaiting_treatment = serializers.IntegerField()
    on_treatment = serializers.IntegerField()
    follow_up = serializers.IntegerField()
    completed = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    withdrawal_reasons = ReasonCountSerializer(many=True)


class ConsortSerializer(serializers.Serializer):
    study = serializers.CharField()
    as_of = serializers.DateField(allow_null=True)
    allocation = serializers.ChoiceField(choices=["randomized", "enrolled"])
    screened = serializers.IntegerField()
    in_screening = serializers.IntegerField()
    eligible_not_allocated = serializers.IntegerField()
    screen_failed = serializers.IntegerField()
    screen_failure_reasons = ReasonCountSerializer(many=True)
    allocated = serializers.IntegerField()
    on_treatment = serializers.IntegerField()
    follow_up = serializers.IntegerField()
    completed = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    withdrawal_reasons = ReasonCountSerializer(many=True)
    arms = ConsortArmSerializer(many=True)


class ConsortQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False, help_text="Counts as the data stood at the end of this date."
    )

    def validate_as_of(self, value):
        check_not_future(value, "as_of")
        return value


def report_site_ids(user, study_id: int) -> set[int] | None:
    """The sites whose patients count in the user's reports; None means every site."""
    if is_unrestricted(user):
        return None
    grants = [g for g in grants_for(user) if g.study_id == study_id and g.allows(Action.VIEW)]
    if any(g.all_sites for g in grants):
        return None
    return {site for g in grants for site in g.site_ids}


class StudyConsortView(APIView):
    """CONSORT flow counts of a study, optionally as of a date (a reproducible data cut).

    Counts cover the sites you have access to.
    """

    @extend_schema(parameters=[ConsortQuerySerializer], responses=ConsortSerializer)
    def get(self, request: Request, pk: int) -> Response:
        study = studies_for(request.user).filter(pk=pk).first()
        if study is None:
            raise Http404("No such study.")
        if not can(request.user, Action.VIEW_REPORTS, study_id=study.pk):
            raise PermissionRefused("Your role in this study does not allow 'view_reports'.")
        query = ConsortQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        counts = consort_counts(
            study,
            as_of=query.validated_data.get("as_of"),
            site_ids=report_site_ids(request.user, study.pk),
        )
        return Response(ConsortSerializer(counts).data)
