"""Randomization and enrolment of a patient; allocation lists (concealed, audited viewing)."""

from __future__ import annotations

from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrf.access import Action, study_ids_for
from patients.models import Patient
from patients.selectors import visible_patient
from randomization.models import AllocationList, AllocationListView, AllocationSlot
from randomization.selectors import sees_whole_list, visible_slots
from randomization.services import allocation_list_record_view, patient_enrol, patient_randomize


class RandomizeRequestSerializer(serializers.Serializer):
    randomized_at = serializers.DateField(
        required=False,
        help_text=(
            "Data managers entering a trial's historical data only: the past randomization "
            "date (not before consent). The slot still comes from the list."
        ),
    )
    factors = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Levels of the protocol's stratification factors besides site, by name.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Note kept with the allocation (audited)."
    )


class RandomizationResultSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    subject_id = serializers.CharField()
    arm = serializers.CharField(help_text="Arm code.")
    arm_name = serializers.CharField()
    randomization_number = serializers.IntegerField()
    stratum = serializers.CharField()
    randomized_at = serializers.DateField(help_text="The randomization date (study day 1).")
    allocated_at = serializers.DateTimeField(help_text="When the system handed out the slot.")
    back_entered = serializers.BooleanField()
    status = serializers.CharField()


class EnrolRequestSerializer(serializers.Serializer):
    enrolled_at = serializers.DateField(
        required=False,
        help_text="Data managers entering historical data only: the past enrolment date.",
    )
    reason = serializers.CharField(required=False, allow_blank=True)


class EnrolmentResultSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    subject_id = serializers.CharField()
    arm = serializers.CharField()
    arm_name = serializers.CharField()
    enrolled_at = serializers.DateField(help_text="The enrolment date (study day 1).")
    back_entered = serializers.BooleanField()
    status = serializers.CharField()


class PatientRandomizeView(APIView):
    """Randomizes a consented, eligible patient: the next free slot of their stratum."""

    @extend_schema(
        request=RandomizeRequestSerializer, responses={201: RandomizationResultSerializer}
    )
    def post(self, request: Request, pk: int) -> Response:
        patient = visible_patient(request.user, pk)
        body = RandomizeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        slot = patient_randomize(actor=request.user, patient=patient, **body.validated_data)
        current = Patient.objects.only("status", "subject_id").get(pk=patient.pk)
        result = {
            "patient": current.pk,
            "subject_id": current.subject_id,
            "arm": slot.arm.code,
            "arm_name": slot.arm.name,
            "randomization_number": slot.number,
            "stratum": slot.stratum,
            "randomized_at": slot.randomized_on,
            "allocated_at": slot.allocated_at,
            "back_entered": slot.back_entered,
            "status": current.status,
        }
        return Response(RandomizationResultSerializer(result).data, status=status.HTTP_201_CREATED)


class PatientEnrolView(APIView):
    """Enrols a consented, eligible patient of a single-arm study."""

    @extend_schema(request=EnrolRequestSerializer, responses={201: EnrolmentResultSerializer})
    def post(self, request: Request, pk: int) -> Response:
        patient = visible_patient(request.user, pk)
        body = EnrolRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        enrolled = patient_enrol(actor=request.user, patient=patient, **body.validated_data)
        result = {
            "patient": enrolled.pk,
            "subject_id": enrolled.subject_id,
            "arm": enrolled.arm.code,
            "arm_name": enrolled.arm.name,
            "enrolled_at": enrolled.day1,
            "back_entered": "enrolled_at" in body.validated_data,
            "status": enrolled.status,
        }
        return Response(EnrolmentResultSerializer(result).data, status=status.HTTP_201_CREATED)


# --- Allocation lists -------------------------------------------------------------------------


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
