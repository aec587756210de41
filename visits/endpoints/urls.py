from django.urls import path

from visits.endpoints.api import PatientAssessmentView, StudyReportView

urlpatterns = [
    path(
        "patients/<int:pk>/assessments/",
        PatientAssessmentView.as_view(),
        name="patient-assessments",
    ),
    path("studies/<int:pk>/report/", StudyReportView.as_view(), name="study-report"),
]
