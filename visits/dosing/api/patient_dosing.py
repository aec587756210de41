"""A patient's dosing: overview, planning, and trough-guided tacrolimus titration."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrf.access import Action, require_on_patient, scope_queryset
from patients.models import Patient
from visits.dosing.api.serializers import (
    DosePlanningResultSerializer,
    DosingOverviewSerializer,
    TitrationDecisionInputSerializer,
    TitrationDecisionSerializer,
    TroughProposalSerializer,
)
from visits.dosing.models import TitrationDecision
from visits.dosing.selectors import dosing_overview
from visits.dosing.services.planning import current_plans, dose_plans_create
from visits.dosing.services.titration import titration_decision_create
from visits.dosing.trough_titration import trough_proposal

TITRATED_DRUG = "tacrolimus"


def patient_in_scope(user, pk: int) -> Patient:
    """The patient of the URL; outside the user's scope it does not exist (404)."""
    patients = Patient.objects.filter(is_voided=False).select_related("arm")
    patient = scope_queryset(patients, user, Action.VIEW).filter(pk=pk).first()
    if patient is None:
        raise NotFound("No such patient.")
    return patient


class PatientDosingView(APIView):
    @extend_schema(responses=DosingOverviewSerializer, operation_id="patient_dosing_overview")
    def get(self, request: Request, pk: int) -> Response:
        """Plans (with taper weeks), dose records, adjustments, titration decisions, and per
        drug the cumulative dose and the deviation of doses given from the current plan."""
        overview = dosing_overview(patient_in_scope(request.user, pk))
        return Response(DosingOverviewSerializer(overview).data)


class DosePlanView(APIView):
    @extend_schema(
        request=None,
        responses={201: DosePlanningResultSerializer, 200: DosePlanningResultSerializer},
        operation_id="patient_dosing_plan",
    )
    def post(self, request: Request, pk: int) -> Response:
        """Plans the doses of every regimen of the patient's arm (201 when a plan was added,
        200 when every current plan still holds). Re-planning adds a plan version."""
        patient = patient_in_scope(request.user, pk)
        created = dose_plans_create(actor=request.user, patient=patient)
        body = {"created": created, "current": list(current_plans(patient).values())}
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(DosePlanningResultSerializer(body).data, status=code)


class TroughProposalView(APIView):
    @extend_schema(responses=TroughProposalSerializer, operation_id="tacrolimus_proposal")
    def get(self, request: Request, pk: int) -> Response:
        """The next tacrolimus dose proposed from the latest trough and the protocol's target,
        with the arithmetic. 400 naming `regimen`, `current_dose` or `trough` when missing."""
        proposal = trough_proposal(patient_in_scope(request.user, pk), TITRATED_DRUG)
        return Response(TroughProposalSerializer(proposal).data)


class TitrationDecisionView(APIView):
    @extend_schema(
        responses=TitrationDecisionSerializer(many=True), operation_id="tacrolimus_decisions"
    )
    def get(self, request: Request, pk: int) -> Response:
        """The patient's titration decisions, oldest first."""
        patient = patient_in_scope(request.user, pk)
        decisions = TitrationDecision.objects.filter(patient=patient, drug=TITRATED_DRUG)
        ordered = decisions.select_related("regimen", "decided_by").order_by("decided_at", "pk")
        return Response(TitrationDecisionSerializer(ordered, many=True).data)

    @extend_schema(
        request=TitrationDecisionInputSerializer,
        responses={201: TitrationDecisionSerializer},
        operation_id="tacrolimus_decide",
    )
    def post(self, request: Request, pk: int) -> Response:
        """Records the investigator's decision with the proposal (recomputed here). Accept or
        modify changes the dose: a dose adjustment, the old record ended, a new one opened."""
        patient = patient_in_scope(request.user, pk)
        require_on_patient(request.user, Action.DECIDE_DOSE, patient)
        serializer = TitrationDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        decision = titration_decision_create(
            actor=request.user,
            patient=patient,
            decision=data["decision"],
            trough_result_id=data["trough_result"],
            dose_record_id=data["dose_record"],
            decided_daily_mg=data.get("decided_daily_mg"),
            comment=data["comment"],
            effective_date=data.get("effective_date"),
            drug=TITRATED_DRUG,
        )
        return Response(TitrationDecisionSerializer(decision).data, status=status.HTTP_201_CREATED)
