"""GET /api/patients/{id}/assessments/, GET /api/studies/{id}/report/ (JSON or CSV) and
POST /api/studies/{id}/recompute/ (a job)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrf.access import Action, can, require_study_wide, scope_queryset
from ecrf.exceptions import InvalidInput, PermissionRefused
from ecrf.jobs import create_job
from ecrf.jobs_api import JobSerializer, job_accepted
from ecrf.validation import parse_date_or_datetime
from patients.models import Patient
from trials.selectors import protocol_version_of, studies_for
from visits.endpoints.jobs import RECOMPUTE
from visits.endpoints.report import study_report
from visits.endpoints.selectors import end_of_cut, patient_assessment

CUT_PARAMETERS = [
    OpenApiParameter(
        "as_of",
        OpenApiTypes.STR,
        description="ISO date or datetime: evaluate the data as they stood then (a bare date "
        "means the end of that day, UTC).",
    ),
    OpenApiParameter(
        "protocol_version",
        OpenApiTypes.INT,
        description="Evaluate under this protocol version's definitions (default: current).",
    ),
]


def parse_cut(params) -> tuple[dt.datetime | None, int | None]:
    raw = params.get("as_of")
    as_of = None
    if raw:
        parsed = parse_date_or_datetime(raw)
        if parsed is None:
            raise InvalidInput("Must be an ISO date (YYYY-MM-DD) or datetime.", field="as_of")
        as_of = end_of_cut(parsed)
    version = params.get("protocol_version")
    if version in (None, ""):
        return as_of, None
    if not str(version).isdigit():
        raise InvalidInput("Must be a protocol version number.", field="protocol_version")
    return as_of, int(version)


class EndpointResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    met = serializers.BooleanField(allow_null=True)
    value = serializers.JSONField(allow_null=True)
    event = serializers.BooleanField(allow_null=True)
    applicable = serializers.BooleanField(
        help_text="False when the endpoint is restricted to other diagnoses than the patient's "
        "(then `met` and `value` are null and the report leaves the patient out)."
    )
    detail = serializers.CharField()


class VisitAssessmentSerializer(serializers.Serializer):
    date = serializers.DateField()
    visit = serializers.CharField(allow_null=True)
    platelet_count = serializers.FloatField()
    response = serializers.CharField()
    bleeding = serializers.BooleanField()
    rescue = serializers.BooleanField()
    detail = serializers.CharField()


class PatientAssessmentSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    subject_id = serializers.CharField()
    protocol_version = serializers.IntegerField()
    as_of = serializers.DateTimeField(allow_null=True)
    visits = VisitAssessmentSerializer(many=True)
    endpoints = serializers.DictField(child=EndpointResultSerializer())


class PatientAssessmentView(APIView):
    """Per-visit platelet responses and every endpoint of the protocol, each with its `detail`."""

    @extend_schema(parameters=CUT_PARAMETERS, responses=PatientAssessmentSerializer)
    def get(self, request, pk: int):
        patients = scope_queryset(
            Patient.objects.select_related("study"), request.user, Action.VIEW
        )
        patient = get_object_or_404(patients, pk=pk)
        as_of, number = parse_cut(request.query_params)
        version = protocol_version_of(patient.study, number)
        result = patient_assessment(patient, protocol_version=version, as_of=as_of)
        return Response(
            {
                "patient": patient.pk,
                "subject_id": patient.subject_id,
                "protocol_version": version.number,
                "as_of": as_of,
                "visits": result["visits"],
                "endpoints": result["endpoints"],
            }
        )


class ReportCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return report_csv(data)


def report_csv(report: dict) -> str:
    """One row per statistic: section, arm, endpoint, statistic, value (per diagnosis, the arm
    column holds `<arm>/<diagnosis>` and the section is `endpoint_by_diagnosis`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "arm", "endpoint", "statistic", "value"])
    for assumption in report.get("assumptions", []):
        for key in ("parameter", "value", "source"):
            writer.writerow(["assumption", "", assumption["code"], key, assumption[key]])
    for arm in report["arms"]:
        writer.writerow(["arm", arm["code"], "", "n", arm["n"]])
        for code, summary in arm["endpoints"].items():
            for key, value in summary.items():
                if key == "type":
                    continue
                writer.writerow(["endpoint", arm["code"], code, key, _cell(value)])
        # Per diagnosis: the arm column reads "<arm>/<diagnosis code>" (e.g. TAC/PRCA).
        for group in arm.get("by_diagnosis", []):
            where = f"{arm['code']}/{group['code'] or 'not recorded'}"
            writer.writerow(["diagnosis", where, "", "n", group["n"]])
            for code, summary in group["endpoints"].items():
                for key, value in summary.items():
                    if key != "type":
                        writer.writerow(["endpoint_by_diagnosis", where, code, key, _cell(value)])
    for comparison in report["comparisons"]:
        arms = " vs ".join(comparison["arms"])
        for key in (
            "odds_ratio",
            "odds_ratio_ci_95",
            "risk_difference",
            "risk_difference_ci_95",
            "p_value",
            "test",
        ):
            writer.writerow(
                ["comparison", arms, comparison["endpoint"], key, _cell(comparison[key])]
            )
    for arm, summary in report["adverse_events"].items():
        writer.writerow(
            ["adverse_events", arm, "", "patients_with_any_ae", summary["patients_with_any_ae"]]
        )
        for grade, count in summary["by_worst_grade"].items():
            writer.writerow(["adverse_events", arm, "", f"worst_grade_{grade}", count])
        for term, count in summary["by_term"].items():
            writer.writerow(["adverse_events", arm, term, "patients", count])
    for key, value in report["consort"].items():
        writer.writerow(["consort", "", "", key, _cell(value)])
    return out.getvalue()


def _cell(value) -> str:
    if isinstance(value, list):
        return " - ".join("" if v is None else str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return "" if value is None else str(value)


class StudyReportView(APIView):
    """Endpoints per arm (rates with 95% CI, medians, Kaplan–Meier), two-arm comparisons with
    Fisher's exact test, adverse events per arm and CONSORT counts. `?format=csv` for CSV."""

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, ReportCSVRenderer]

    @extend_schema(
        parameters=CUT_PARAMETERS,
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request, pk: int, format=None):
        study = get_object_or_404(studies_for(request.user), pk=pk)
        if not can(request.user, Action.VIEW_REPORTS, study_id=study.pk):
            raise PermissionRefused("Your role in this study does not include reports.")
        as_of, number = parse_cut(request.query_params)
        version = protocol_version_of(study, number)
        report = study_report(study, protocol_version=version, as_of=as_of)
        response = Response(report)
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = (
                f'attachment; filename="{study.registry_id}-report-v{version.number}.csv"'
            )
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors (and OPTIONS metadata) are always JSON, even when CSV was asked for.
        data = getattr(response, "data", None)
        if getattr(response, "exception", False) or not (isinstance(data, dict) and "arms" in data):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class StudyRecomputeView(APIView):
    """Reassesses every allocated patient of the study (after a protocol amendment, say) as a
    job: 202 with the job at once; `GET /api/jobs/{id}/` follows it. Each patient's changed
    assessment gets a history row naming you and the job. Needs a data manager's grant over all
    of the study's sites."""

    @extend_schema(request=None, responses={202: JobSerializer})
    def post(self, request, pk: int):
        study = get_object_or_404(studies_for(request.user), pk=pk)
        require_study_wide(
            request.user,
            Action.RECOMPUTE,
            study.pk,
            "Recomputing a study needs a data manager's grant over all of its sites.",
        )
        job = create_job(kind=RECOMPUTE, study=study, actor=request.user, parameters={})
        return job_accepted(request, job)
