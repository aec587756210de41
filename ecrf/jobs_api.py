"""Jobs in the API: read-only, scoped like every record (study, and site for a site's job),
and always visible to whoever asked for them. Endpoints that start one answer `job_accepted`."""

from __future__ import annotations

from django.db.models import Q
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter

from ecrf.access import Action, scope_q
from ecrf.jobs import enqueue
from ecrf.models import Job


class JobSerializer(serializers.ModelSerializer):
    # Null for an import whose rows name no study (their subject ids tell it).
    study = serializers.SlugRelatedField(slug_field="registry_id", read_only=True, allow_null=True)
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
    seen by roles that cover every site of the study; a site's job by that site's roles too; and
    every job by the user who started it."""

    serializer_class = JobSerializer
    queryset = Job.objects.select_related("study", "site", "requested_by")
    filterset_fields = ["kind", "state"]

    def get_queryset(self):
        user = self.request.user
        scoped = scope_q(user, Action.VIEW, study_field="study", site_field="site")
        if scoped is None:
            return self.queryset.all()
        return self.queryset.filter(scoped | Q(requested_by=user))


def job_accepted(request, job: Job) -> Response:
    """Queues the job (it starts once the request's transaction commits; in immediate mode, the
    laptop's, it has run by then) and answers 202 with the job and where to follow it."""
    enqueue(job)
    job.refresh_from_db()
    location = reverse("job-detail", args=[job.pk], request=request)
    return Response(
        JobSerializer(job).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location}
    )


router = SimpleRouter()
router.register("jobs", JobViewSet, basename="job")
urlpatterns = router.urls
