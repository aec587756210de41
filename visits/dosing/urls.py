from django.urls import path
from rest_framework.routers import SimpleRouter

from visits.dosing.api.patient_dosing import (
    DosePlanView,
    PatientDosingView,
    TitrationDecisionView,
    TroughProposalView,
)
from visits.dosing.api.records import DoseAdjustmentViewSet, DoseRecordViewSet

router = SimpleRouter()
router.register("dose-records", DoseRecordViewSet, basename="dose-record")
router.register("dose-adjustments", DoseAdjustmentViewSet, basename="dose-adjustment")

urlpatterns = [
    *router.urls,
    path("patients/<int:pk>/dosing/", PatientDosingView.as_view(), name="patient-dosing"),
    path("patients/<int:pk>/dosing/plan/", DosePlanView.as_view(), name="patient-dosing-plan"),
    path(
        "patients/<int:pk>/dosing/tacrolimus/proposal/",
        TroughProposalView.as_view(),
        name="patient-tacrolimus-proposal",
    ),
    path(
        "patients/<int:pk>/dosing/tacrolimus/decisions/",
        TitrationDecisionView.as_view(),
        name="patient-tacrolimus-decisions",
    ),
]
