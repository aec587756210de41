from django.contrib import admin
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from ecrf.auth_api import ObtainTokenView
from patients.api import PatientViewSet
from trials.api import StudyViewSet

router = DefaultRouter()
router.register("studies", StudyViewSet, basename="study")
router.register("patients", PatientViewSet, basename="patient")


def health(request):
    """Liveness for the container health check: the database answers (503 when it does not,
    through DatabaseUnavailableMiddleware)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Split view: Swagger UI's script is a file of its own, so the CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(router.urls)),
    # Each app registers its own resources (SimpleRouter: no second API root).
    path("api/", include("patients.urls")),
    path("api/", include("randomization.urls")),
    path("api/", include("visits.urls")),
    path("api/", include("labs.urls")),
    path("api/", include("findings.urls")),
    path("api/", include("safety.urls")),
    path("api/", include("dosing.urls")),
    path("api/", include("endpoints.urls")),
    path("api-auth/", include("rest_framework.urls")),
]
