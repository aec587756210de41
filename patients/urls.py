from django.urls import path
from rest_framework.routers import SimpleRouter

from patients.api import PatientViewSet, StudyConsortView
from patients.randomization_api import PatientEnrolView, PatientRandomizeView

# The patients view-set brings its actions (consent, eligibility, status) with it.
router = SimpleRouter()
router.register("patients", PatientViewSet, basename="patient")

urlpatterns = [
    *router.urls,
    path("patients/<int:pk>/randomize/", PatientRandomizeView.as_view(), name="patient-randomize"),
    path("patients/<int:pk>/enrol/", PatientEnrolView.as_view(), name="patient-enrol"),
    path("studies/<int:pk>/consort/", StudyConsortView.as_view(), name="study-consort"),
]
