"""Queries through the API: `/api/queries/` (list, raise), `…/{id}/answer/`, `/close/`,
`/reopen/`, `/history/`; `GET /api/queries/open-per-site/`."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.api import ScopedReadMixin
from visits.review import queries as services
from visits.review.models import Query
from visits.review.resources import RESOURCES
from visits.review.selectors import age_in_days, open_queries_per_site, opened_before


class QuerySerializer(serializers.ModelSerializer):
    subject_id = serializers.CharField(source="patient.subject_id", read_only=True)
    site_code = serializers.CharField(source="site.code", read_only=True)
    raised_by = serializers.SerializerMethodField()
    answered_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    age_days = serializers.SerializerMethodField()

    class Meta:
        model = Query
        fields = [
            "id",
            "study",
            "site",
            "site_code",
            "patient",
            "subject_id",
            "resource",
            "record_id",
            "field",
            "text",
            "status",
            "raised_by",
            "edit_check",
            "opened_at",
            "age_days",
            "answer",
            "answered_by",
            "answered_at",
            "closed_by",
            "closed_at",
            "close_reason",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_raised_by(self, query: Query) -> str:
        """The raiser's username, or `system` for an edit check."""
        return query.raised_by.username if query.raised_by is not None else "system"

    def get_age_days(self, query: Query) -> int:
        """Whole days since the query was opened."""
        return age_in_days(query)


class QueryRaiseSerializer(serializers.Serializer):
    resource = serializers.ChoiceField(
        choices=sorted(RESOURCES), help_text="The record's API path name, e.g. lab-results."
    )
    record_id = serializers.IntegerField(min_value=1)
    field = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="One field of the record."
    )
    text = serializers.CharField(help_text="The question to the site.")


class QueryAnswerSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="The site's answer (audited).")


class QueryStepSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the query is closed or re-opened (audited).")


class OpenQueriesPerSiteSerializer(serializers.Serializer):
    study = serializers.CharField(help_text="Registry id.")
    site = serializers.IntegerField()
    site_code = serializers.CharField()
    open = serializers.IntegerField()
    answered = serializers.IntegerField(help_text="Answered, waiting to be closed.")


class QueryFilter(django_filters.FilterSet):
    min_age_days = django_filters.NumberFilter(
        method="filter_min_age", label="Open for at least this many days."
    )

    class Meta:
        model = Query
        fields = ["study", "site", "patient", "status", "resource", "record_id", "edit_check"]

    def filter_min_age(self, queryset, name, value):
        return queryset.filter(opened_at__lte=opened_before(int(value)))


def _answer(query: Query, code=status.HTTP_200_OK) -> Response:
    return Response(QuerySerializer(query).data, status=code)


class QueryViewSet(
    ScopedReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Queries on the data of your sites: raised by monitors and data managers (or by edit
    checks: `raised_by` is `system`), answered by the site, closed or re-opened by monitors and
    data managers. Filters: study, site, patient, status, resource, record_id, edit_check,
    min_age_days."""

    queryset = Query.objects.select_related(
        "patient", "site", "study", "raised_by", "answered_by", "closed_by"
    )
    serializer_class = QuerySerializer
    filterset_class = QueryFilter
    ordering_fields = ["opened_at", "status", "updated_at"]
    ordering = ["-opened_at", "-id"]

    def _reloaded(self, query: Query) -> Query:
        return self.get_queryset().get(pk=query.pk)

    @extend_schema(request=QueryRaiseSerializer, responses={201: QuerySerializer})
    def create(self, request: Request) -> Response:
        """Raises a query on a record (or one field of it) or a visit."""
        data = _valid(QueryRaiseSerializer, request)
        query = services.query_raise(actor=request.user, **data)
        return _answer(self._reloaded(query), status.HTTP_201_CREATED)

    @extend_schema(request=QueryAnswerSerializer, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk=None) -> Response:
        """The site's answer (coordinator or investigator of the record's site)."""
        query = self.get_object()
        data = _valid(QueryAnswerSerializer, request, query=query, action="answer")
        return _answer(
            self._reloaded(services.query_answer(actor=request.user, query=query, **data))
        )

    @extend_schema(request=QueryStepSerializer, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        """Closes the query (monitor or data manager), with a reason."""
        query = self.get_object()
        data = _valid(QueryStepSerializer, request, query=query, action="close")
        return _answer(
            self._reloaded(services.query_close(actor=request.user, query=query, **data))
        )

    @extend_schema(request=QueryStepSerializer, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk=None) -> Response:
        """Re-opens an answered or closed query (monitor or data manager), with a reason."""
        query = self.get_object()
        data = _valid(QueryStepSerializer, request, query=query, action="reopen")
        return _answer(
            self._reloaded(services.query_reopen(actor=request.user, query=query, **data))
        )

    @extend_schema(responses=OpenQueriesPerSiteSerializer(many=True))
    @action(
        detail=False,
        methods=["get"],
        url_path="open-per-site",
        filterset_class=None,
        pagination_class=None,
    )
    def open_per_site(self, request: Request) -> Response:
        """Not yet closed queries per site of your studies (open, and answered awaiting close)."""
        return Response(
            OpenQueriesPerSiteSerializer(open_queries_per_site(request.user), many=True).data
        )


STEP_ACTIONS = {
    "answer": services.ANSWER_ACTION,
    "close": services.MANAGE_ACTION,
    "reopen": services.MANAGE_ACTION,
}


def _valid(serializer_class, request: Request, *, query: Query | None = None, action=None):
    """The request's body, validated — after the role check, so a role without the right learns
    nothing from validation errors (a 403 before any 400)."""
    if query is not None:
        services.require_step(request.user, STEP_ACTIONS[action], query)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
