from django.urls import path

from visits.endpoints.api import PatientAssessmentView, StudyRecomputeView, StudyReportView

urlpatterns = [
    path(
        "patients/<int:pk>/assessments/",
        PatientAssessmentView.as_view(),
        name="patient-assessments",
    ),
    path("studies/<int:pk>/report/", StudyReportView.as_view(), name="study-report"),
    path("studies/<int:pk>/recompute/", StudyRecomputeView.as_view(), name="study-recompute"),
]
