"""`GET/POST /api/patients/{id}/signatures/`: investigator e-signatures and whether they hold."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrf.schema import ErrorEnvelopeSerializer
from patients.selectors import visible_patient
from visits.models import Visit
from visits.review.models import Signature
from visits.review.signatures import (
    require_signer,
    signature_create,
    signature_state,
    signed_records,
)


class SignatureChangeSerializer(serializers.Serializer):
    resource = serializers.CharField()
    record_id = serializers.IntegerField()
    change = serializers.ChoiceField(choices=["changed", "added", "removed"])
    signed_version = serializers.IntegerField(allow_null=True)
    current_version = serializers.IntegerField(allow_null=True)


class SignatureSerializer(serializers.ModelSerializer):
    signer = serializers.SlugRelatedField(slug_field="username", read_only=True)
    visit_code = serializers.CharField(source="visit.code", read_only=True, default=None)
    record_count = serializers.SerializerMethodField()
    valid = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    class Meta:
        model = Signature
        fields = [
            "id",
            "patient",
            "visit",
            "visit_code",
            "signer",
            "printed_name",
            "meaning",
            "signed_at",
            "records_hash",
            "record_count",
            "valid",
            "changes",
        ]

    def _state(self, signature: Signature) -> dict:
        states = self.context.setdefault("states", {})
        if signature.pk not in states:
            current = self.context.get("current") if signature.visit_id is None else None
            states[signature.pk] = signature_state(signature, current)
        return states[signature.pk]

    def get_record_count(self, signature: Signature) -> int:
        return len(signature.signed_records)

    def get_valid(self, signature: Signature) -> bool:
        """False once a signed record changed, was voided, or a record was added."""
        return self._state(signature)["valid"]

    @extend_schema_field(SignatureChangeSerializer(many=True))
    def get_changes(self, signature: Signature) -> list[dict]:
        return self._state(signature)["changes"]


class SignatureCreateSerializer(serializers.Serializer):
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, help_text="Your password, entered again."
    )
    meaning = serializers.CharField(
        max_length=300, help_text="What the signature means, e.g. 'I reviewed and approve'."
    )
    visit = serializers.IntegerField(
        required=False, allow_null=True, help_text="Sign only this visit's records."
    )


class PatientSignaturesView(APIView):
    """The patient's e-signatures with whether each still holds; an investigator of the
    patient's site signs with their password and the signature's meaning."""

    @extend_schema(responses=SignatureSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        patient = visible_patient(request.user, pk)
        signatures = list(
            Signature.objects.filter(patient=patient)
            .select_related("signer", "visit", "patient")
            .order_by("-signed_at", "-id")
        )
        # The casebook's current records are read once for every casebook signature.
        context = {"current": signed_records(patient)} if signatures else {}
        return Response(SignatureSerializer(signatures, many=True, context=context).data)

    @extend_schema(
        request=SignatureCreateSerializer,
        responses={
            201: SignatureSerializer,
            # Wrong passwords count as failed logins: django-axes locks the name out.
            429: OpenApiResponse(
                ErrorEnvelopeSerializer, description="Locked out after too many wrong passwords."
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        patient = visible_patient(request.user, pk)
        require_signer(request.user, patient)
        body = SignatureCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        visit = None
        if data.get("visit") is not None:
            visit = Visit.objects.filter(pk=data["visit"]).first() or Visit(pk=0, patient_id=0)
        signature = signature_create(
            actor=request.user,
            request=request._request,
            patient=patient,
            password=data["password"],
            meaning=data["meaning"],
            visit=visit,
        )
        return Response(SignatureSerializer(signature).data, status=status.HTTP_201_CREATED)
