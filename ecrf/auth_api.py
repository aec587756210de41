"""Token authentication: POST /api/auth/token/ with username and password → {"token": ...}.

The token expires (`expires_at`), and each login replaces the user's earlier token.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ecrf.exceptions import InvalidInput
from ecrf.login_security import TokenThrottle
from ecrf.tokens import issue_token


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ObtainTokenView(APIView):
    """Exchanges a username and password for an API token.

    Send the token as `Authorization: Token <key>` on every request.
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [TokenThrottle]
    throttle_scope = "token"

    @extend_schema(request=TokenRequestSerializer, responses=TokenResponseSerializer, auth=[])
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            # The Django request: django-axes flags a lockout on it for its middleware.
            request=request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise InvalidInput("Unable to log in with these credentials.", field="password")
        key, token = issue_token(user)
        return Response({"token": key, "expires_at": token.expires_at})
