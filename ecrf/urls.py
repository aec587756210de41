from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.routers import DefaultRouter

from ecrf.auth_api import ObtainTokenView
from ecrf.exceptions import api_path_not_found
from patients.api import PatientViewSet
from trials.api import StudyViewSet

router = DefaultRouter()
router.register("studies", StudyViewSet, basename="study")
router.register("patients", PatientViewSet, basename="patient")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
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
    # Last: any other /api/ path is a JSON 404 in the error envelope, not Django's HTML page.
    re_path(r"^api/", api_path_not_found),
]
