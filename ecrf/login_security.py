"""Login hardening (issue 13, findings 2 and 3): the token throttle, the lockout answer of
django-axes, and the security event log of logins and failed logins.

Every login — admin, browsable API, token endpoint — goes through `django.contrib.auth.
authenticate`, so the backend below sees each one; no signal receiver is needed.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.http import HttpResponse, JsonResponse
from rest_framework.throttling import ScopedRateThrottle

from ecrf.client_address import client_address
from ecrf.models import SecurityEvent


def login_channel(request) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith("/api-auth/"):
        return "api-session"
    return "api"


def record_security_event(kind: str, request, *, username: str = "", user=None, detail=""):
    SecurityEvent.objects.create(
        kind=kind,
        username=(username or "")[:150],
        user=user,
        client_address=client_address(request) if request is not None else None,
        channel=login_channel(request) if request is not None else "",
        detail=detail,
    )


class AuditedModelBackend(ModelBackend):
    """Django's model backend, writing every login and failed login to the security log."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if username is None:
            username = kwargs.get("username", "")
        if user is None:
            record_security_event(SecurityEvent.Kind.LOGIN_FAILED, request, username=username)
        else:
            record_security_event(SecurityEvent.Kind.LOGIN, request, username=username, user=user)
        return user


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out login: 429, logged; JSON error format on the API."""
    username = (credentials or {}).get("username", "") if isinstance(credentials, dict) else ""
    record_security_event(SecurityEvent.Kind.LOCKOUT, request, username=username)
    message = (
        "Too many failed logins: this account is locked from this address; "
        "ask an administrator to unlock it."
    )
    if request.path.startswith("/api/"):
        body = {
            "status": 429,
            "code": "locked_out",
            "detail": message,
            "errors": [{"field": None, "message": message, "code": "locked_out"}],
        }
        return JsonResponse(body, status=429)
    return HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")


class TokenThrottle(ScopedRateThrottle):
    """The token endpoint's rate, per real client address, counted in the shared cache."""

    def get_ident(self, request):
        return client_address(request) or "unknown"
