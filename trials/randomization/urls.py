from rest_framework.routers import SimpleRouter

from trials.randomization.api import AllocationListViewSet

router = SimpleRouter()
router.register("allocation-lists", AllocationListViewSet, basename="allocation-list")

urlpatterns = router.urls
