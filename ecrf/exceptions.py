"""One error hierarchy for services and one error format for every 4xx answer of the API.

Every error body looks like::

    {"status": 400, "code": "invalid", "detail": "reason: This field is required.",
     "errors": [{"field": "reason", "message": "This field is required.", "code": "required"}]}

`field` is a dotted path into the request (``answers.primary_itp``) or null for the request as a
whole, so a client can always point at what was wrong.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from ecrf.domain.errors import DomainError


class ServiceError(Exception):
    """A write refused by a service. Raised inside the transaction, so nothing is stored."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, errors: list | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or [{"field": field, "message": message, "code": self.code}]


class InvalidInput(ServiceError):
    pass


class Conflict(ServiceError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class StaleVersion(ServiceError):
    """The client edited an older version of the record than the one stored."""

    status_code = status.HTTP_409_CONFLICT
    code = "stale_version"


class PermissionRefused(ServiceError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


def flatten_errors(detail: Any, prefix: str | None = None) -> list[dict]:
    """Turns DRF's nested error detail into a flat list of {field, message, code}."""
    if isinstance(detail, dict):
        out: list[dict] = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "__all__") else str(key)
            path = ".".join(p for p in (prefix, name) if p) or None
            out.extend(flatten_errors(value, path))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                out.extend(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
            else:
                out.extend(flatten_errors(value, prefix))
        return out
    code = getattr(detail, "code", None) or "invalid"
    return [{"field": prefix, "message": str(detail), "code": code}]


def error_response(status_code: int, code: str, errors: list[dict]) -> Response:
    summary = "; ".join(
        f"{e['field']}: {e['message']}" if e.get("field") else e["message"] for e in errors
    )
    body = {"status": status_code, "code": code, "detail": summary, "errors": errors}
    return Response(body, status=status_code)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ServiceError):
        return error_response(exc.status_code, exc.code, exc.errors)
    if isinstance(exc, DomainError):
        return error_response(
            400, "invalid", [{"field": exc.field, "message": exc.message, "code": "invalid"}]
        )
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return error_response(400, "invalid", flatten_errors(detail))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        code = "invalid"
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        errors = [
            {"field": None, "message": str(detail), "code": getattr(exc, "default_code", "error")}
        ]
        code = getattr(exc, "default_code", "error")
    wrapped = error_response(response.status_code, code, errors)
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            wrapped[header] = response[header]
    return wrapped


@csrf_exempt  # it changes nothing; without this a write to an unknown path is an HTML 403
def api_path_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown /api/ paths: a 404 in the error envelope, so clients parse every error alike."""
    message = f"No API resource at {request.path}."
    errors = [{"field": None, "message": message, "code": "not_found"}]
    body = {"status": 404, "code": "not_found", "detail": message, "errors": errors}
    return JsonResponse(body, status=404)
