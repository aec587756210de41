"""The product's URLs plus /bench/bare-lab/: the floor a lab POST is compared with.

The bare endpoint authenticates and validates like the product (same DRF stack, same token
authentication, same request serializer) and inserts the same row with one INSERT: no access
check, no lock, no history row, no grading against the series, no assessment refresh.
"""

from django.urls import include, path
from django.utils import timezone
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrf.domain import units
from visits.labs.api import LabResultCreateSerializer
from visits.labs.models import LabResult


class BareLabInsert(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        serializer = LabResultCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        code = data["test_code"]
        value_std = units.to_standard(code, data["value"], data["unit"])
        result = LabResult.objects.create(
            patient_id=data["patient"],
            collected_at=timezone.localtime(data["collected_at"]),
            test_code=code,
            laboratory=data["laboratory"],
            value=data["value"],
            unit=data["unit"],
            value_std=value_std,
            unit_std=units.standard_unit(code),
            source_accession=data.get("source_accession", ""),
        )
        return Response({"id": result.pk}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("bench/bare-lab/", BareLabInsert.as_view()),
    path("", include("ecrf.urls")),
]
