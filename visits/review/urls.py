from django.urls import path
from rest_framework.routers import SimpleRouter

from visits.review.api import QueryViewSet
from visits.review.api_locks import DataLockViewSet, lock_view
from visits.review.api_sdv import SourceVerificationViewSet
from visits.review.api_signatures import PatientSignaturesView

router = SimpleRouter()
router.register("queries", QueryViewSet, basename="query")
router.register("locks", DataLockViewSet, basename="data-lock")
router.register("sdv", SourceVerificationViewSet, basename="source-verification")

# (URL segment, kind, scope, release)
LOCK_PATHS = [
    ("patients", "freeze", "patient", False),
    ("patients", "unfreeze", "patient", True),
    ("patients", "lock", "patient", False),
    ("patients", "unlock", "patient", True),
    ("visits", "freeze", "visit", False),
    ("visits", "unfreeze", "visit", True),
    ("studies", "lock", "study", False),
    ("studies", "unlock", "study", True),
]
KIND_OF_VERB = {"freeze": "freeze", "unfreeze": "freeze", "lock": "lock", "unlock": "lock"}

urlpatterns = [
    *router.urls,
    path(
        "patients/<int:pk>/signatures/",
        PatientSignaturesView.as_view(),
        name="patient-signatures",
    ),
    *(
        path(
            f"{segment}/<int:pk>/{verb}/",
            lock_view(KIND_OF_VERB[verb], scope, release=release).as_view(),
            name=f"{scope}-{verb}",
        )
        for segment, verb, scope, release in LOCK_PATHS
    ),
]
