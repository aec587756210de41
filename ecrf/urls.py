from django.contrib import admin
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from ecrf.auth_api import ObtainTokenView
from ecrf.exceptions import api_path_not_found


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
    # Each app registers its own resources; the project package imports none of them.
    path("api/", include("trials.urls")),
    path("api/", include("patients.urls")),
    path("api/", include("trials.randomization.urls")),
    path("api/", include("visits.urls")),
    path("api/", include("visits.labs.urls")),
    path("api/", include("visits.findings.urls")),
    path("api/", include("visits.safety.urls")),
    path("api/", include("visits.dosing.urls")),
    path("api/", include("visits.endpoints.urls")),
    path("api/", include("visits.exports.urls")),
    path("api/", include("ecrf.jobs_api")),
    path("api/", include("visits.review.urls")),
    path("api-auth/", include("rest_framework.urls")),
    # Last: any other /api/ path is a JSON 404 in the error envelope, not Django's HTML page.
    re_path(r"^api/", api_path_not_found),
]
