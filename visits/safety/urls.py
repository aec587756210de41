from django.urls import path
from rest_framework.routers import SimpleRouter

from visits.safety.api import (
    AdverseEventViewSet,
    AeDrugAssessmentViewSet,
    CtcaeGradeView,
    CtcaeTermViewSet,
    PatientAeSuggestionsView,
)

router = SimpleRouter()
router.register("ctcae/terms", CtcaeTermViewSet, basename="ctcae-term")
router.register("adverse-events", AdverseEventViewSet, basename="adverse-event")
router.register("ae-drug-assessments", AeDrugAssessmentViewSet, basename="ae-drug-assessment")

urlpatterns = [
    path("ctcae/grade/", CtcaeGradeView.as_view(), name="ctcae-grade"),
    path(
        "patients/<int:pk>/ae-suggestions/",
        PatientAeSuggestionsView.as_view(),
        name="patient-ae-suggestions",
    ),
    *router.urls,
]
