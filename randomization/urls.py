from django.urls import path
from rest_framework.routers import SimpleRouter

from randomization.api import AllocationListViewSet, PatientEnrolView, PatientRandomizeView

router = SimpleRouter()
router.register("allocation-lists", AllocationListViewSet, basename="allocation-list")

urlpatterns = [
    *router.urls,
    path("patients/<int:pk>/randomize/", PatientRandomizeView.as_view(), name="patient-randomize"),
    path("patients/<int:pk>/enrol/", PatientEnrolView.as_view(), name="patient-enrol"),
]
