"""Request limits and database outages, answered in the API's JSON error format (issue 13).

- A body larger than `MAX_REQUEST_BYTES` is refused with 413 before it is read (finding 8).
- A JSON body nested deeper than `MAX_JSON_DEPTH` is refused with 400 before any parser
  recurses into it (Python's json module would raise RecursionError: a 500).
- A lost database connection answers 503 with `Retry-After` (finding 7); the request's
  transaction, if any, was rolled back by the database, so nothing partial is stored.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

log = logging.getLogger(__name__)

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """Deepest nesting of arrays and objects; brackets inside strings do not count."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def error_body(status: int, code: str, message: str, field: str | None = None) -> dict:
    return {
        "status": status,
        "code": code,
        "detail": f"{field}: {message}" if field else message,
        "errors": [{"field": field, "message": message, "code": code}],
    }


def _refuse(request, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(status, code, message), status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            return _refuse(
                request,
                413,
                "too_large",
                f"The request body is {length} bytes; the limit is "
                f"{settings.MAX_REQUEST_BYTES} bytes.",
            )
        if length and "json" in request.META.get("CONTENT_TYPE", ""):
            depth = json_depth(request.body)
            if depth > settings.MAX_JSON_DEPTH:
                return _refuse(
                    request,
                    400,
                    "too_deep",
                    f"The JSON body is nested {depth} levels deep; the limit is "
                    f"{settings.MAX_JSON_DEPTH}.",
                )
        return self.get_response(request)


def _is_connection_loss(exc: BaseException) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    # psycopg: class 08 (connection exception) and 57P01-57P03 (server shutting down).
    sqlstate = getattr(cause, "sqlstate", None) or ""
    if sqlstate.startswith(("08", "57P")):
        return True
    text = str(exc).lower()
    return any(
        phrase in text
        for phrase in (
            "connection",
            "server closed",
            "terminating",
            "could not connect",
            "the database system is",
        )
    )


class DatabaseUnavailableMiddleware:
    """Turns a lost or refused database connection into 503 + Retry-After (JSON on the API)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if not isinstance(exc, DatabaseError) or not _is_connection_loss(exc):
            return None
        log.error("Database unavailable: %s", exc)
        response = _refuse(
            request,
            503,
            "database_unavailable",
            "The database is unavailable; nothing was stored. Retry shortly.",
        )
        response["Retry-After"] = str(settings.DATABASE_RETRY_AFTER_SECONDS)
        return response
