from rest_framework.routers import SimpleRouter

from visits.labs.api import LabResultViewSet, ReferenceRangeViewSet

router = SimpleRouter()
router.register("lab-results", LabResultViewSet, basename="lab-result")
router.register("reference-ranges", ReferenceRangeViewSet, basename="reference-range")

urlpatterns = router.urls
