"""Lab results and reference ranges over HTTP (thin: validate, call a service, serialize)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.access import Action, can
from ecrf.api import (
    AUDIT_FIELDS_WITHOUT_VOID_TIME,
    AuditedRecordViewSet,
    record_schema,
)
from ecrf.exceptions import InvalidInput
from ecrf.jobs import create_job
from ecrf.jobs_api import JobSerializer, job_accepted
from patients.selectors import patient_named_in_request
from trials.models import Site
from trials.selectors import visible_study
from visits.labs import bulk, services
from visits.labs.api_fields import (
    CollectionTimeField,
    PlainDecimalField,
    PlainDecimalModelSerializer,
)
from visits.labs.jobs import LAB_IMPORT
from visits.labs.models import (
    DEFAULT_LABORATORY,
    RANGE_INDICATOR_CHOICES,
    LabResult,
    ReferenceRange,
)
from visits.labs.selectors import lab_results_queryset, reference_ranges_queryset
from visits.record_api import (
    PatientRecordViewSet,
)


class LabCtcaeSuggestionSerializer(serializers.Serializer):
    term = serializers.CharField()
    meddra_code = serializers.CharField()
    grade = serializers.IntegerField(
        allow_null=True, help_text="0: not abnormal enough; null: the value alone cannot grade it."
    )
    basis = serializers.CharField()


class LabResultSerializer(PlainDecimalModelSerializer):
    subject_id = serializers.CharField(source="patient.subject_id", read_only=True)
    # One name for the lab's accession id in every endpoint, single and bulk (issue 11).
    accession = serializers.CharField(
        source="source_accession", read_only=True, help_text="The lab's accession id, or ''."
    )
    visit_code = serializers.CharField(
        source="visit.code", read_only=True, default=None, allow_null=True
    )
    indicator = serializers.SerializerMethodField(
        help_text="CDISC LBNRIND: LOW, NORMAL or HIGH; null when there is no range."
    )
    ctcae = serializers.SerializerMethodField(
        help_text="The CTCAE v5.0 grade the value suggests, or null (see ctcae_note)."
    )

    class Meta:
        model = LabResult
        fields = [
            "id",
            "patient",
            "subject_id",
            "visit",
            "visit_code",
            "collected_at",
            "test_code",
            "laboratory",
            "value",
            "unit",
            "lln",
            "uln",
            "value_std",
            "unit_std",
            "lln_std",
            "uln_std",
            "times_uln",
            "indicator",
            "range_source",
            "reference_range",
            "ctcae",
            "ctcae_note",
            "baseline_result",
            "accession",
            *AUDIT_FIELDS_WITHOUT_VOID_TIME,
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=RANGE_INDICATOR_CHOICES, allow_null=True))
    def get_indicator(self, result: LabResult) -> str | None:
        return result.indicator or None  # stored blank when there is no range

    @extend_schema_field(LabCtcaeSuggestionSerializer(allow_null=True))
    def get_ctcae(self, result: LabResult) -> dict | None:
        if not result.ctcae_term:
            return None
        return {
            "term": result.ctcae_term,
            "meddra_code": result.ctcae_meddra_code,
            "grade": result.ctcae_grade,
            "basis": result.ctcae_basis,
        }


class LabResultCreateSerializer(serializers.Serializer):
    patient = serializers.IntegerField(help_text="Patient id.")
    collected_at = CollectionTimeField(help_text="Sample collection time (with offset).")
    test_code = serializers.CharField(max_length=10, help_text="CDISC LBTESTCD, e.g. PLAT.")
    value = PlainDecimalField()
    unit = serializers.CharField(max_length=30)
    lln = PlainDecimalField(
        required=False, allow_null=True, help_text="In `unit`; see range_source."
    )
    uln = PlainDecimalField(
        required=False, allow_null=True, help_text="In `unit`; see range_source."
    )
    visit = serializers.IntegerField(required=False, allow_null=True, help_text="Visit id.")
    laboratory = serializers.CharField(
        max_length=100,
        default=DEFAULT_LABORATORY,
        help_text="Site laboratory whose range table applies when lln/uln are not sent.",
    )
    accession = serializers.CharField(
        source="source_accession",
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="The lab's accession id. A result resent with an accession already stored for "
        "this patient's test is answered with the stored result (200) if it reports the same "
        "sample and value, else 409 naming the stored result; nothing new is stored.",
    )


class LabResultUpdateSerializer(serializers.Serializer):
    """A correction: any of these fields, with the reason and the version you read."""

    collected_at = CollectionTimeField(required=False)
    test_code = serializers.CharField(max_length=10, required=False)
    value = PlainDecimalField(required=False)
    unit = serializers.CharField(max_length=30, required=False)
    lln = PlainDecimalField(required=False, allow_null=True)
    uln = PlainDecimalField(required=False, allow_null=True)
    visit = serializers.IntegerField(required=False, allow_null=True)
    laboratory = serializers.CharField(max_length=100, required=False)
    reason = serializers.CharField(help_text="Why the value changes (audited).")
    version = serializers.IntegerField(required=False, help_text="The version you read.")


class LabBulkRequestSerializer(serializers.Serializer):
    rows = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        max_length=5000,
        help_text="Objects with patient (subject id), test_code, value, unit, collected_at, "
        "accession, and optional lln, uln, visit (code), laboratory.",
    )
    partial = serializers.BooleanField(
        default=False, help_text="Keep the good rows when some fail (default: all or nothing)."
    )
    study = serializers.IntegerField(
        required=False, help_text="Study id, when subject ids are not unique across studies."
    )
    source = serializers.CharField(
        max_length=80, default="(API request)", help_text="File name, for the audit trail."
    )
    background = serializers.BooleanField(
        default=False,
        help_text="Run the import as a job: answered at once with 202 and the job "
        "(`GET /api/jobs/{id}/` shows its progress, then the import's report or errors).",
    )


class LabBulkRowErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    code = serializers.CharField()
    line = serializers.IntegerField()


class LabBulkRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "skipped", "error"])
    patient = serializers.CharField()
    test_code = serializers.CharField()
    accession = serializers.CharField()
    result_id = serializers.IntegerField(allow_null=True)
    errors = LabBulkRowErrorSerializer(many=True)


class LabBulkReportSerializer(serializers.Serializer):
    source = serializers.CharField()
    partial = serializers.BooleanField()
    created = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    rows = LabBulkRowSerializer(many=True)


@record_schema
class LabResultViewSet(PatientRecordViewSet):
    """Lab results, one row per test, of the patients you have access to."""

    queryset = lab_results_queryset()
    output_serializer_class = LabResultSerializer
    create_serializer_class = LabResultCreateSerializer
    update_serializer_class = LabResultUpdateSerializer
    writes = services.LAB_RESULT_WRITES
    filterset_fields = [
        "patient",
        "visit",
        "test_code",
        "indicator",
        "ctcae_grade",
        "range_source",
        "is_voided",
    ]
    ordering_fields = ["collected_at", "test_code", "created_at"]
    date_range_field = "collected_at"
    code_filters = {"accession": ("source_accession",)}
    create_may_answer_stored = True  # 200 with the stored result for a resent accession
    history_field_names = {
        "ctcae_term": "ctcae.term",
        "ctcae_meddra_code": "ctcae.meddra_code",
        "ctcae_grade": "ctcae.grade",
        "ctcae_basis": "ctcae.basis",
    }
    ordering = ["collected_at", "id"]

    def get_serializer_class(self):
        if self.action == "bulk":
            return LabBulkRequestSerializer
        return super().get_serializer_class()

    def create(self, request: Request, *args, **kwargs) -> Response:
        """Stores one result and answers with its standard value, range indicator, ×ULN and
        CTCAE suggestion (201). A result resent with the same `accession` and content is
        answered with the stored one (200) and nothing is stored; other content is a 409."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        patient = patient_named_in_request(request.user, data.pop("patient"))
        result, created = services.lab_result_receive(
            actor=request.user, patient=patient, **self.with_referenced_records(data)
        )
        return Response(
            self.get_output_serializer(result).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Voids the result (never a hard delete); results graded against it are re-derived."""
        return super().destroy(request, *args, **kwargs)

    @extend_schema(
        request=LabBulkRequestSerializer,
        responses={
            201: LabBulkReportSerializer,
            200: LabBulkReportSerializer,
            202: JobSerializer,
        },
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """Imports many results at once, idempotent on the accession; all or nothing unless
        `partial`. Errors name the row (`rows.<index>.<field>`) and its line. With `background`
        the import runs as a job (202) with the same rules, its report the job's result."""
        serializer = LabBulkRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        study = visible_study(request.user, data["study"]) if "study" in data else None
        if data["background"]:
            job = create_job(
                kind=LAB_IMPORT,
                study=study,
                actor=request.user,
                parameters={
                    "rows": data["rows"],
                    "source": data["source"],
                    "partial": data["partial"],
                },
            )
            return job_accepted(request, job)
        report = bulk.lab_results_import(
            actor=request.user,
            rows=bulk.json_rows(data["rows"]),
            source=data["source"],
            study=study,
            partial=data["partial"],
        )
        body = {
            "source": report.source,
            "partial": report.partial,
            "created": report.created,
            "skipped": report.skipped,
            "failed": report.failed,
            "rows": [vars(row) | {"errors": row.errors} for row in report.rows],
        }
        created = report.created and not report.failed
        return Response(
            LabBulkReportSerializer(body).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ReferenceRangeSerializer(PlainDecimalModelSerializer):
    site_code = serializers.CharField(source="site.code", read_only=True)

    class Meta:
        model = ReferenceRange
        fields = [
            "id",
            "site",
            "site_code",
            *services.REFERENCE_RANGE_FIELDS,
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "site_code", "version", "created_at", "updated_at"]
        extra_kwargs = {"site": {"queryset": Site.objects.all()}}


class ReferenceRangeUpdateSerializer(PlainDecimalModelSerializer):
    reason = serializers.CharField(write_only=True)
    version = serializers.IntegerField(required=False, write_only=True)

    class Meta:
        model = ReferenceRange
        fields = [*services.REFERENCE_RANGE_FIELDS, "reason", "version"]


class ReferenceRangeViewSet(AuditedRecordViewSet):
    """Site laboratories' reference ranges (per test, sex, age band and period). Ranges are
    changed (e.g. ended) with a reason, never deleted: stored results point at them."""

    http_method_names = ["get", "post", "patch", "put", "head", "options"]
    queryset = reference_ranges_queryset()
    output_serializer_class = ReferenceRangeSerializer
    update_serializer_class = ReferenceRangeUpdateSerializer
    writes = services.REFERENCE_RANGE_WRITES
    study_field = "site__study"
    site_field = "site"
    filterset_fields = ["site", "laboratory", "test_code", "sex"]
    code_filters = {"site_code": ("site__code",)}
    ordering_fields = ["test_code", "effective_from"]
    ordering = ["site", "laboratory", "test_code", "effective_from"]

    def create_record(self, serializer):
        data = dict(serializer.validated_data)
        site = data["site"]
        if not can(self.request.user, Action.VIEW, study_id=site.study_id, site_id=site.pk):
            raise InvalidInput("Unknown site.", field="site")
        return self.writes.create_record(self.request.user, **data)
