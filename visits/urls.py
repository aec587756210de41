from django.urls import path
from rest_framework.routers import SimpleRouter

from visits.api import PatientUnscheduledVisitsView, PatientVisitsView, VisitViewSet

router = SimpleRouter()
router.register("visits", VisitViewSet, basename="visit")

urlpatterns = [
    *router.urls,
    path("patients/<int:pk>/visits/", PatientVisitsView.as_view(), name="patient-visits"),
    path(
        "patients/<int:pk>/unscheduled-visits/",
        PatientUnscheduledVisitsView.as_view(),
        name="patient-unscheduled-visits",
    ),
]
