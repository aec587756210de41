from rest_framework.routers import SimpleRouter

from trials.api import StudyViewSet

router = SimpleRouter()
router.register("studies", StudyViewSet, basename="study")

urlpatterns = router.urls
