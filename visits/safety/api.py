"""CTCAE dictionary and grading, adverse events and causality over HTTP (thin)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import filters, generics, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrf.access import Action, scope_queryset
from ecrf.api import (
    AUDIT_FIELDS_WITHOUT_VOID_TIME,
    AuditedRecordViewSet,
    OffsetDateTimeField,
    record_schema,
)
from ecrf.exceptions import InvalidInput
from patients.selectors import patient_named_in_request, visible_patients
from visits.labs.api_fields import PlainDecimalField
from visits.labs.evaluation import grade_reported_value
from visits.labs.models import LabResult
from visits.models import Visit
from visits.record_api import (
    PatientRecordViewSet,
)
from visits.safety import services
from visits.safety.models import (
    SERIOUSNESS_FIELDS,
    ActionTaken,
    AdverseEvent,
    AdverseEventDrugAssessment,
    Causality,
    CtcaeTerm,
    Outcome,
)
from visits.safety.selectors import (
    adverse_events_queryset,
    ctcae_terms_queryset,
    drug_assessments_queryset,
    lab_ae_suggestions,
)

SERIOUSNESS_CHOICES = list(SERIOUSNESS_FIELDS.values())

# --- Dictionary and grading -------------------------------------------------------------------


class CtcaeTermSerializer(serializers.ModelSerializer):
    existing_grades = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = CtcaeTerm
        fields = [
            "id",
            "ctcae_version",
            "meddra_code",
            "soc",
            "term",
            "grade1",
            "grade2",
            "grade3",
            "grade4",
            "grade5",
            "existing_grades",
            "definition",
            "source",
        ]
        read_only_fields = fields


class CtcaeTermViewSet(viewsets.ReadOnlyModelViewSet):
    """The CTCAE term dictionary (`?search=` matches term, MedDRA code or organ class)."""

    queryset = ctcae_terms_queryset()
    serializer_class = CtcaeTermSerializer
    filter_backends = [
        *viewsets.ReadOnlyModelViewSet.filter_backends,
        filters.SearchFilter,
    ]
    search_fields = ["term", "meddra_code", "soc"]
    filterset_fields = ["ctcae_version", "soc", "source"]
    ordering_fields = ["term", "meddra_code", "soc"]
    ordering = ["term"]


class CtcaeGradeRequestSerializer(serializers.Serializer):
    test_code = serializers.CharField(max_length=10)
    value = PlainDecimalField()
    unit = serializers.CharField(max_length=30)
    lln = PlainDecimalField(required=False, allow_null=True, help_text="In `unit`.")
    uln = PlainDecimalField(required=False, allow_null=True, help_text="In `unit`.")
    baseline_value = PlainDecimalField(required=False, allow_null=True, help_text="In `unit`.")
    baseline_abnormal = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Whether the baseline was abnormal; inferred as baseline > ULN when omitted.",
    )


class CtcaeGradeResponseSerializer(serializers.Serializer):
    term = serializers.CharField(allow_null=True)
    meddra_code = serializers.CharField(allow_null=True)
    grade = serializers.IntegerField(
        allow_null=True,
        help_text="0: not abnormal enough to grade; null: the value alone cannot grade it.",
    )
    basis = serializers.CharField()
    test_code = serializers.CharField()
    value_std = PlainDecimalField()
    unit_std = serializers.CharField()
    lln_std = PlainDecimalField(allow_null=True)
    uln_std = PlainDecimalField(allow_null=True)
    baseline_value_std = PlainDecimalField(allow_null=True)


class CtcaeGradeView(APIView):
    @extend_schema(request=CtcaeGradeRequestSerializer, responses=CtcaeGradeResponseSerializer)
    def post(self, request: Request) -> Response:
        """The CTCAE v5.0 grade a lab value suggests (abnormal-baseline rule included)."""
        serializer = CtcaeGradeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        values, baseline_std, graded = grade_reported_value(
            test_code=data["test_code"],
            value=data["value"],
            unit=data["unit"],
            lln=data.get("lln"),
            uln=data.get("uln"),
            baseline_value=data.get("baseline_value"),
            baseline_abnormal=data.get("baseline_abnormal"),
        )
        body = {
            "term": graded.term,
            "meddra_code": graded.meddra_code,
            "grade": graded.grade,
            "basis": graded.basis,
            "test_code": values.test_code,
            "value_std": values.value_std,
            "unit_std": values.unit_std,
            "lln_std": values.lln_std,
            "uln_std": values.uln_std,
            "baseline_value_std": baseline_std,
        }
        return Response(CtcaeGradeResponseSerializer(body).data)


# --- Adverse events ---------------------------------------------------------------------------


class AeTermSerializer(serializers.ModelSerializer):
    class Meta:
        model = CtcaeTerm
        fields = ["id", "meddra_code", "term", "soc", "ctcae_version"]
        read_only_fields = fields


class AeDrugAssessmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdverseEventDrugAssessment
        fields = [
            "id",
            "adverse_event",
            "drug",
            "causality",
            "action_taken",
            *AUDIT_FIELDS_WITHOUT_VOID_TIME,
        ]
        read_only_fields = fields


class AdverseEventSerializer(serializers.ModelSerializer):
    subject_id = serializers.CharField(source="patient.subject_id", read_only=True)
    term = AeTermSerializer(read_only=True)
    grade_text = serializers.SerializerMethodField()
    seriousness_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=SERIOUSNESS_CHOICES), read_only=True
    )
    reporting_deadline = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="SAE: 24 hours after the site became aware."
    )
    drug_assessments = AeDrugAssessmentSerializer(many=True, read_only=True)

    class Meta:
        model = AdverseEvent
        fields = [
            "id",
            "patient",
            "subject_id",
            "visit",
            "term",
            "verbatim",
            "onset_date",
            "resolution_date",
            "grade",
            "grade_text",
            "outcome",
            "is_serious",
            "seriousness_criteria",
            "site_aware_at",
            "reporting_deadline",
            "lab_result",
            "drug_assessments",
            *AUDIT_FIELDS_WITHOUT_VOID_TIME,
        ]
        read_only_fields = fields

    def get_grade_text(self, event: AdverseEvent) -> str | None:
        return event.term.grade_text(event.grade)


class AeDrugAssessmentInputSerializer(serializers.Serializer):
    drug = serializers.CharField(max_length=100, help_text="A drug of the patient's arm.")
    causality = serializers.ChoiceField(choices=Causality.choices)
    action_taken = serializers.ChoiceField(choices=ActionTaken.choices)


class AdverseEventCreateSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    visit = serializers.IntegerField(required=False, allow_null=True)
    term = serializers.CharField(help_text="CTCAE term: MedDRA code or exact term name.")
    verbatim = serializers.CharField()
    onset_date = serializers.DateField()
    resolution_date = serializers.DateField(required=False, allow_null=True)
    grade = serializers.IntegerField(min_value=1, max_value=5)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    is_serious = serializers.BooleanField(default=False)
    seriousness_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=SERIOUSNESS_CHOICES), required=False, default=list
    )
    site_aware_at = OffsetDateTimeField(required=False, allow_null=True)
    lab_result = serializers.IntegerField(required=False, allow_null=True)
    drug_assessments = AeDrugAssessmentInputSerializer(many=True, required=False, default=list)


class AdverseEventUpdateSerializer(serializers.Serializer):
    """A follow-up or correction; only the fields sent change."""

    visit = serializers.IntegerField(required=False, allow_null=True)
    term = serializers.CharField(required=False)
    verbatim = serializers.CharField(required=False)
    onset_date = serializers.DateField(required=False)
    resolution_date = serializers.DateField(required=False, allow_null=True)
    grade = serializers.IntegerField(min_value=1, max_value=5, required=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)
    is_serious = serializers.BooleanField(required=False)
    seriousness_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=SERIOUSNESS_CHOICES), required=False
    )
    site_aware_at = OffsetDateTimeField(required=False, allow_null=True)
    reason = serializers.CharField(help_text="Why it changes (audited).")
    version = serializers.IntegerField(required=False, help_text="The version you read.")


@record_schema
class AdverseEventViewSet(PatientRecordViewSet):
    """Adverse events of the patients you have access to, with causality per study drug."""

    queryset = adverse_events_queryset()
    output_serializer_class = AdverseEventSerializer
    create_serializer_class = AdverseEventCreateSerializer
    update_serializer_class = AdverseEventUpdateSerializer
    writes = services.ADVERSE_EVENT_WRITES
    references = {"visit": Visit, "lab_result": LabResult}
    filterset_fields = ["patient", "term", "grade", "is_serious", "outcome", "is_voided"]
    ordering_fields = ["onset_date", "grade", "created_at"]
    date_range_field = "onset_date"
    # The CTCAE term as requests name it: its MedDRA code or its name, in any case.
    code_filters = {"term": ("term__meddra_code", "term__term")}
    ordering = ["onset_date", "id"]
    # The history names a seriousness flag as the answer and the exports do.
    history_field_names = {
        field: f"seriousness_criteria.{name}" for field, name in SERIOUSNESS_FIELDS.items()
    }

    def create(self, request: Request, *args, **kwargs) -> Response:
        """Records an event and its drug assessments in one transaction."""
        return super().create(request, *args, **kwargs)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        """Follow-up or correction (grade change, resolution...): reason and version needed."""
        return super().partial_update(request, *args, **kwargs)

    def create_record(self, serializer):
        data = dict(serializer.validated_data)
        patient = patient_named_in_request(self.request.user, data.pop("patient"))
        term = services.resolve_term(data.pop("term"), patient.study.ctcae_version)
        assessments = [
            services.DrugAssessmentInput(**item) for item in data.pop("drug_assessments")
        ]
        event = self.writes.create_record(
            self.request.user,
            patient=patient,
            term=term,
            drug_assessments=assessments,
            **self.with_referenced_records(data),
        )
        return self.get_queryset().get(pk=event.pk)

    def update_record(self, instance, changes: dict, *, reason, version):
        if "term" in changes:
            changes["term"] = services.resolve_term(
                changes["term"], instance.patient.study.ctcae_version
            )
        if "seriousness_criteria" in changes:
            changes |= services.seriousness_flags(changes.pop("seriousness_criteria"))
        super().update_record(instance, changes, reason=reason, version=version)
        return self.get_queryset().get(pk=instance.pk)

    def get_output_serializer(self, instance):
        if self.action == "destroy":  # a voided event is re-read with its assessments
            instance = self.get_queryset().get(pk=instance.pk)
        return super().get_output_serializer(instance)


class AeDrugAssessmentCreateSerializer(serializers.Serializer):
    adverse_event = serializers.IntegerField()
    drug = serializers.CharField(max_length=100)
    causality = serializers.ChoiceField(choices=Causality.choices)
    action_taken = serializers.ChoiceField(choices=ActionTaken.choices)


class AeDrugAssessmentUpdateSerializer(serializers.Serializer):
    causality = serializers.ChoiceField(choices=Causality.choices, required=False)
    action_taken = serializers.ChoiceField(choices=ActionTaken.choices, required=False)
    reason = serializers.CharField()
    version = serializers.IntegerField(required=False)


@record_schema
class AeDrugAssessmentViewSet(AuditedRecordViewSet):
    """Causality and action taken per study drug; a wrong drug is voided and re-entered."""

    queryset = drug_assessments_queryset()
    output_serializer_class = AeDrugAssessmentSerializer
    create_serializer_class = AeDrugAssessmentCreateSerializer
    update_serializer_class = AeDrugAssessmentUpdateSerializer
    writes = services.DRUG_ASSESSMENT_WRITES
    study_field = "adverse_event__patient__study"
    site_field = "adverse_event__patient__site"
    filterset_fields = ["adverse_event", "drug", "causality", "is_voided"]
    ordering = ["adverse_event", "drug"]

    def create_record(self, serializer):
        data = dict(serializer.validated_data)
        events = scope_queryset(
            AdverseEvent.objects.select_related("patient"),
            self.request.user,
            Action.VIEW,
            study_field="patient__study",
            site_field="patient__site",
        )
        event = events.filter(pk=data.pop("adverse_event")).first()
        if event is None:
            raise InvalidInput("Unknown adverse event.", field="adverse_event")
        assessment = services.DrugAssessmentInput(**data)
        return self.writes.create_record(self.request.user, event=event, assessment=assessment)


# --- Lab-based suggestions ---------------------------------------------------------------------


class AeSuggestionSerializer(serializers.Serializer):
    lab_result_id = serializers.IntegerField()
    collected_at = serializers.DateTimeField()
    test_code = serializers.CharField()
    value_std = PlainDecimalField()
    unit_std = serializers.CharField()
    term = serializers.CharField()
    meddra_code = serializers.CharField()
    term_id = serializers.IntegerField(allow_null=True, help_text="Dictionary id, for POST.")
    grade = serializers.IntegerField()
    basis = serializers.CharField()
    adverse_event_id = serializers.IntegerField(
        allow_null=True, help_text="An event of this term already covering the collection day."
    )


class PatientAeSuggestionsView(generics.GenericAPIView):
    """Lab values of CTCAE grade ≥ 1 that the protocol does not exclude, newest first."""

    serializer_class = AeSuggestionSerializer

    def get_queryset(self):
        return visible_patients(self.request.user, Action.VIEW).select_related("study")

    @extend_schema(responses=AeSuggestionSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        patient = generics.get_object_or_404(self.get_queryset(), pk=pk)
        suggestions = lab_ae_suggestions(patient)
        page = self.paginate_queryset(suggestions)
        data = AeSuggestionSerializer([vars(s) for s in page], many=True).data
        return self.get_paginated_response(data)
