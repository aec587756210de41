"""Allocation lists (concealed, audited viewing)."""

from __future__ import annotations

from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.access import Action, study_ids_for
from trials.randomization.models import AllocationList, AllocationListView, AllocationSlot
from trials.randomization.selectors import sees_whole_list, visible_slots
from trials.randomization.services import (
    allocation_list_record_view,
)


class AllocationListSerializer(serializers.ModelSerializer):
    """What anyone managing randomization may know of a list: not its arms, not its seed."""

    study = serializers.SlugRelatedField(slug_field="registry_id", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    slots_total = serializers.IntegerField(read_only=True)
    slots_allocated = serializers.IntegerField(read_only=True)

    class Meta:
        model = AllocationList
        fields = [
            "id",
            "study",
            "study_id",
            "source",
            "active",
            "created_by",
            "created_at",
            "slots_total",
            "slots_allocated",
        ]
        read_only_fields = fields


class AllocationSlotSerializer(serializers.ModelSerializer):
    arm = serializers.SlugRelatedField(slug_field="code", read_only=True)
    subject_id = serializers.CharField(source="patient.subject_id", allow_null=True, default=None)

    class Meta:
        model = AllocationSlot
        fields = [
            "number",
            "stratum",
            "arm",
            "block",
            "block_size",
            "subject_id",
            "randomized_on",
            "allocated_at",
            "back_entered",
        ]
        read_only_fields = fields


class AllocationListContentSerializer(serializers.Serializer):
    list = AllocationListSerializer()
    seed = serializers.IntegerField(allow_null=True)
    scheme = serializers.JSONField()
    slots = AllocationSlotSerializer(many=True)


class AllocationListViewEntrySerializer(serializers.ModelSerializer):
    viewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AllocationListView
        fields = ["viewed_by", "viewed_at", "channel"]
        read_only_fields = fields


class AllocationListViewSet(viewsets.ReadOnlyModelViewSet):
    """Allocation lists of the studies whose randomization you manage or may unconceal.

    The listing never shows arms or seeds. `GET /{id}/slots/` shows the whole list (data
    managers only) and is logged; `GET /{id}/views/` shows that log.
    """

    serializer_class = AllocationListSerializer
    queryset = AllocationList.objects.all()
    filterset_fields = ["study", "active", "source"]

    def get_queryset(self):
        queryset = AllocationList.objects.select_related("study", "created_by").annotate(
            slots_total=Count("slots"),
            slots_allocated=Count("slots", filter=Q(slots__patient__isnull=False)),
        )
        managed = study_ids_for(self.request.user, Action.MANAGE_RANDOMIZATION)
        unconcealed = study_ids_for(self.request.user, Action.VIEW_ALLOCATION_LIST)
        if managed is None or unconcealed is None:
            return queryset.order_by("study__registry_id", "-id")
        return queryset.filter(study_id__in=managed | unconcealed).order_by(
            "study__registry_id", "-id"
        )

    @extend_schema(responses=AllocationListContentSerializer)
    @action(detail=True, methods=["get"])
    def slots(self, request: Request, pk=None) -> Response:
        """The unconcealed list, every slot with its arm (data managers only; each view is
        logged with who and when)."""
        allocation_list = self.get_object()
        allocation_list_record_view(
            actor=request.user,
            allocation_list=allocation_list,
            channel=AllocationListView.Channel.API,
        )
        # A site-scoped data manager sees their sites' slots only, and not the seed (it would
        # regenerate every site's list).
        whole = sees_whole_list(request.user, allocation_list)
        slots = visible_slots(request.user, allocation_list)
        content = {
            "list": allocation_list,
            "seed": allocation_list.seed if whole else None,
            "scheme": allocation_list.scheme,
            "slots": slots.select_related("arm", "patient").order_by("number"),
        }
        return Response(AllocationListContentSerializer(content).data)

    @extend_schema(responses=AllocationListViewEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def views(self, request: Request, pk=None) -> Response:
        """Who looked at the unconcealed list, newest first."""
        allocation_list = self.get_object()
        entries = allocation_list.views.select_related("viewed_by")
        page = self.paginate_queryset(entries)
        data = AllocationListViewEntrySerializer(page, many=True).data
        return self.get_paginated_response(data)
