"""Freeze and lock through the API.

`POST /api/patients/{id}/freeze/`, `/unfreeze/`, `/lock/`, `/unlock/`;
`POST /api/visits/{id}/freeze/`, `/unfreeze/`; `POST /api/studies/{id}/lock/`, `/unlock/` —
each with a `reason`; `GET /api/locks/` lists them
(`?study=&patient=&visit=&kind=&scope=&is_active=`).
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrf.access import Action, scope_queryset
from patients.selectors import visible_patient
from trials.selectors import studies_for
from visits.models import Visit
from visits.review.locks import lock_place, lock_release, require_lock_right
from visits.review.models import DataLock, LockKind, LockScope
from visits.review.selectors import visible_locks


class DataLockSerializer(serializers.ModelSerializer):
    placed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    released_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = DataLock
        fields = [
            "id",
            "kind",
            "scope",
            "study",
            "patient",
            "visit",
            "reason",
            "is_active",
            "placed_by",
            "placed_at",
            "released_by",
            "released_at",
            "release_reason",
            "version",
        ]


class LockReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the data are frozen, locked or released.")


class DataLockViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Freezes and locks of the data you can see, active and released."""

    serializer_class = DataLockSerializer
    filterset_fields = ["study", "patient", "visit", "kind", "scope", "is_active"]
    ordering = ["-placed_at", "-id"]

    def get_queryset(self):
        return visible_locks(self.request.user)


def _visible_study(user, pk: int):
    study = studies_for(user).filter(pk=pk).first()
    if study is None:
        raise Http404("No such study.")
    return study


def _visible_visit(user, pk: int) -> Visit:
    visits = scope_queryset(
        Visit.objects.select_related("patient__study", "patient__site"),
        user,
        Action.VIEW,
        study_field="patient__study",
        site_field="patient__site",
    )
    visit = visits.filter(pk=pk).first()
    if visit is None:
        raise Http404("No such visit.")
    return visit


def lock_view(kind: str, scope: str, *, release: bool) -> type[APIView]:
    verb = {
        (LockKind.FREEZE, False): "Freezes",
        (LockKind.FREEZE, True): "Unfreezes",
        (LockKind.LOCK, False): "Locks",
        (LockKind.LOCK, True): "Unlocks",
    }[(kind, release)]
    target = {"study": "the whole study", "patient": "the patient", "visit": "the visit"}[scope]

    class LockView(APIView):
        @extend_schema(
            request=LockReasonSerializer,
            responses={200 if release else 201: DataLockSerializer},
            summary=f"{verb} {target}",
        )
        def post(self, request: Request, pk: int) -> Response:
            user = request.user
            targets = {}
            if scope == LockScope.STUDY:
                targets["study"] = _visible_study(user, pk)
            elif scope == LockScope.PATIENT:
                targets["patient"] = visible_patient(user, pk)
            else:
                targets["visit"] = _visible_visit(user, pk)
            require_lock_right(
                user,
                study=targets.get("study"),
                patient=targets["visit"].patient if "visit" in targets else targets.get("patient"),
            )
            body = LockReasonSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            service = lock_release if release else lock_place
            lock = service(
                actor=user, kind=kind, scope=scope, reason=body.validated_data["reason"], **targets
            )
            code = status.HTTP_200_OK if release else status.HTTP_201_CREATED
            return Response(DataLockSerializer(lock).data, status=code)

    LockView.__name__ = f"{verb}{scope.title()}View"
    LockView.__qualname__ = LockView.__name__
    LockView.__doc__ = f"{verb} {target}, with a reason (data managers)."
    return LockView
