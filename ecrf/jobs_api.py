"""Jobs in the API: read-only, scoped like every record (study, and site for a site's job)."""

from __future__ import annotations

from rest_framework import serializers, viewsets
from rest_framework.routers import SimpleRouter

from ecrf.access import Action, scope_queryset
from ecrf.models import Job


class JobSerializer(serializers.ModelSerializer):
    study = serializers.SlugRelatedField(slug_field="registry_id", read_only=True)
    site = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    result = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "study",
            "site",
            "state",
            "done",
            "total",
            "result",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Long tasks (lab imports, recomputes) and how far they are: `queued`, `running` with
    `done` of `total`, `done` with the `result`, or `failed` with the `error`. A study-wide job is
    seen by roles that cover every site of the study; a site's job by that site's roles too."""

    serializer_class = JobSerializer
    queryset = Job.objects.select_related("study", "site", "requested_by")
    filterset_fields = ["kind", "state"]

    def get_queryset(self):
        return scope_queryset(
            self.queryset.all(),
            self.request.user,
            Action.VIEW,
            study_field="study",
            site_field="site",
        )


router = SimpleRouter()
router.register("jobs", JobViewSet, basename="job")
urlpatterns = router.urls
