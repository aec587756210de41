from rest_framework.routers import SimpleRouter

from visits.findings.api.bleeding import BleedingAssessmentViewSet, RescueTherapyViewSet
from visits.findings.api.sjogren import EssdaiAssessmentViewSet, EsspriAssessmentViewSet
from visits.findings.api.status import EcogAssessmentViewSet, VitalSignsViewSet

router = SimpleRouter()
router.register("bleeding-assessments", BleedingAssessmentViewSet, basename="bleeding-assessment")
router.register("rescue-therapies", RescueTherapyViewSet, basename="rescue-therapy")
router.register("ecog-assessments", EcogAssessmentViewSet, basename="ecog-assessment")
router.register("vital-signs", VitalSignsViewSet, basename="vital-signs")
router.register("essdai-assessments", EssdaiAssessmentViewSet, basename="essdai-assessment")
router.register("esspri-assessments", EsspriAssessmentViewSet, basename="esspri-assessment")

urlpatterns = router.urls
