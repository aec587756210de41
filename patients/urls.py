from django.urls import path

from patients.api import StudyConsortView

# The patients view-set itself is registered in ecrf/urls.py (/api/patients/); its actions
# (consent, eligibility, status) come with it.
urlpatterns = [
    path("studies/<int:pk>/consort/", StudyConsortView.as_view(), name="study-consort"),
]
