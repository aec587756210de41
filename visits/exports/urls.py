from django.urls import path

from visits.exports.api import AuditLogView, StudyCodebookView, StudyExportView

urlpatterns = [
    path("audit/", AuditLogView.as_view(), name="audit-log"),
    path("studies/<int:pk>/export/", StudyExportView.as_view(), name="study-export"),
    path("studies/<int:pk>/codebook/", StudyCodebookView.as_view(), name="study-codebook"),
]
