"""Randomization and enrolment of a patient."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from patients.models import Patient
from patients.randomization import (
    patient_enrol,
    patient_randomize,
)
from patients.selectors import visible_patient


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
