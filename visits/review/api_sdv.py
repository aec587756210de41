"""Source data verification through the API: `GET/POST /api/sdv/` (marks, mark a record or a
visit's records), `GET /api/sdv/progress/?study=&site=`."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.api import ScopedReadMixin
from ecrf.exceptions import InvalidInput
from visits.review import sdv as services
from visits.review.models import SourceVerification
from visits.review.resources import RESOURCES


class SourceVerificationSerializer(serializers.ModelSerializer):
    subject_id = serializers.CharField(source="patient.subject_id", read_only=True)
    verified_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    cleared_by = serializers.SerializerMethodField()

    class Meta:
        model = SourceVerification
        fields = [
            "id",
            "study",
            "site",
            "patient",
            "subject_id",
            "resource",
            "record_id",
            "record_version",
            "verified_by",
            "verified_at",
            "is_cleared",
            "cleared_at",
            "cleared_by",
            "cleared_reason",
            "version",
        ]

    def get_cleared_by(self, mark: SourceVerification) -> str | None:
        """Who changed the record (`system` for a change without a user); null while standing."""
        if not mark.is_cleared:
            return None
        return mark.cleared_by.username if mark.cleared_by is not None else "system"


class SdvMarkSerializer(serializers.Serializer):
    resource = serializers.ChoiceField(
        choices=sorted(RESOURCES),
        required=False,
        help_text="The record's API path name, e.g. lab-results (with record_id).",
    )
    record_id = serializers.IntegerField(min_value=1, required=False)
    visit = serializers.IntegerField(
        min_value=1, required=False, help_text="Instead: mark the visit and all its records."
    )

    def validate(self, data):
        if "visit" in data:
            if "resource" in data or "record_id" in data:
                raise InvalidInput("Give either visit, or resource and record_id.", field="visit")
            return data
        for key in ("resource", "record_id"):
            if key not in data:
                raise InvalidInput("Required (or give visit).", field=key)
        return data


class SdvCountsSerializer(serializers.Serializer):
    site = serializers.IntegerField()
    site_code = serializers.CharField()
    required = serializers.IntegerField(help_text="Records the protocol's sdv_plan requires.")
    verified = serializers.IntegerField(help_text="Of those, verified at their current version.")
    cleared = serializers.IntegerField(help_text="Of those, verified once, changed since.")


class SdvPatientCountsSerializer(SdvCountsSerializer):
    patient = serializers.IntegerField()
    subject_id = serializers.CharField()


class SdvProgressSerializer(serializers.Serializer):
    sites = SdvCountsSerializer(many=True)
    patients = SdvPatientCountsSerializer(many=True)


class SourceVerificationFilter(django_filters.FilterSet):
    class Meta:
        model = SourceVerification
        fields = ["study", "site", "patient", "resource", "record_id", "is_cleared"]


class SourceVerificationViewSet(
    ScopedReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Source data verification marks of your sites, standing and cleared (a cleared mark says
    which change cleared it: who, when, the change's reason)."""

    queryset = SourceVerification.objects.select_related("patient", "verified_by", "cleared_by")
    serializer_class = SourceVerificationSerializer
    filterset_class = SourceVerificationFilter
    ordering = ["-verified_at", "-id"]

    @extend_schema(
        request=SdvMarkSerializer, responses={201: SourceVerificationSerializer(many=True)}
    )
    def create(self, request: Request) -> Response:
        """Marks a record (`resource` + `record_id`) or a visit and its records (`visit`) as
        source-verified at their current versions (monitor or data manager of the site)."""
        serializer = SdvMarkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "visit" in data:
            marks = services.sdv_mark_visit(actor=request.user, visit_id=data["visit"])
        else:
            marks = [
                services.sdv_mark(
                    actor=request.user, resource=data["resource"], record_id=data["record_id"]
                )
            ]
        stored = (
            self.get_queryset()
            .filter(pk__in=[m.pk for m in marks])
            .order_by("resource", "record_id")
        )
        return Response(
            SourceVerificationSerializer(stored, many=True).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("study", int, required=False),
            OpenApiParameter("site", int, required=False),
        ],
        responses=SdvProgressSerializer,
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def progress(self, request: Request) -> Response:
        """What the protocol's sdv_plan requires, verified and cleared, per site and patient
        (of one study with `study`, else of all your studies; one site with `site`)."""
        values = {}
        for key in ("study", "site"):
            raw = request.query_params.get(key)
            if raw is None:
                continue
            if not raw.isdigit():
                raise InvalidInput("Must be an id (an integer).", field=key)
            values[key] = int(raw)
        progress = services.sdv_progress(
            request.user, study_id=values.get("study"), site_id=values.get("site")
        )
        return Response(SdvProgressSerializer(progress).data)
