from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ecrf.auth_api import ObtainTokenView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
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
    path("api-auth/", include("rest_framework.urls")),
]
