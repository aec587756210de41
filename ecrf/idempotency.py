"""`Idempotency-Key` on every POST of the API (issue 11): a client that lost the answer to a POST
retries it with the same key and gets the first answer again, and nothing new is stored.

One middleware, so no view can forget it:

- a POST to `/api/...` with the header, by an authenticated user (the view's own authentication
  classes decide who that is; anonymous requests, such as the token login, pass through);
- the first request claims `(user, key)` by inserting an `IdempotencyKey` row inside one
  transaction that also holds the view's writes. A concurrent request with the same key waits on
  the unique constraint until the first one ends, then replays its answer (or, if the first
  failed, runs itself): duplicates are never stored twice;
- only a successful (2xx) answer spends the key; an error (4xx, 5xx) rolls the claim back with
  the rest, so the same key may be retried after fixing whatever failed;
- a retry with the same key, method, path and body gets the stored status and body, with
  `Idempotent-Replayed: true`; the same key with another body (or path) is a 422
  `idempotency_key_reused` naming the header;
- answers are kept `IDEMPOTENCY_KEY_TTL` (24 h by default); an expired key is free again, and
  `manage.py purge_idempotency_keys` deletes expired rows.
"""

from __future__ import annotations

import hashlib
import json
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from ecrf.models import IdempotencyKey
from ecrf.request_limits import error_body

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_FORMAT = re.compile(r"^[!-~]{1,255}$")  # printable ASCII, no spaces
KEY_FORMAT_TEXT = "1 to 255 printable ASCII characters without spaces (e.g. a UUID)"


def request_fingerprint(body: bytes) -> str:
    """SHA-256 of the body: of its canonical JSON when it parses (so spacing and key order do
    not make a retry 'different'), else of the bytes."""
    try:
        canonical = json.dumps(
            json.loads(body or b"null"), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def _refuse(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(status, code, message, field=HEADER), status=status)


def _authenticated_user(request):
    """The user the view would see, from the view's own authentication classes; None when the
    path is not an API view or the request is anonymous (the view then answers as usual)."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return None
    view_class = getattr(match.func, "cls", None)
    if view_class is None:
        return None
    authenticators = [auth() for auth in view_class.authentication_classes]
    try:
        user = Request(request, authenticators=authenticators).user
    except exceptions.APIException:
        return None
    return user if user is not None and user.is_authenticated else None


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        stored.response_body,
        status=stored.response_status,
        content_type=stored.response_content_type,
    )
    if stored.response_etag:
        response["ETag"] = stored.response_etag
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotencyKeyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not KEY_FORMAT.match(key):
            return _refuse(400, "invalid", f"An {HEADER} is {KEY_FORMAT_TEXT}.")
        user = _authenticated_user(request)
        if user is None:
            return self.get_response(request)
        return self._once(request, user, key)

    def _once(self, request, user, key: str):
        path = request.get_full_path()
        fingerprint = request_fingerprint(request.body)
        now = timezone.now()
        with transaction.atomic():
            IdempotencyKey.objects.filter(user=user, key=key, expires_at__lte=now).delete()
            try:
                # A concurrent request with this key waits here until the first one ends.
                with transaction.atomic():
                    claim = IdempotencyKey.objects.create(
                        user=user,
                        key=key,
                        method=request.method,
                        path=path,
                        request_hash=fingerprint,
                        response_status=0,  # filled in below, in the same transaction
                        response_body="",
                        response_content_type="",
                        created_at=now,
                        expires_at=now + settings.IDEMPOTENCY_KEY_TTL,
                    )
            except IntegrityError:
                stored = IdempotencyKey.objects.get(user=user, key=key)
                if (stored.method, stored.path, stored.request_hash) != (
                    request.method,
                    path,
                    fingerprint,
                ):
                    return _refuse(
                        422,
                        "idempotency_key_reused",
                        f"This {HEADER} was used for another request ({stored.method} "
                        f"{stored.path} with another body); use a new key for a new request.",
                    )
                return _replay(stored)
            response = self.get_response(request)
            if not 200 <= response.status_code < 300:
                # Nothing of this request stays, the claim included: the key may be retried.
                transaction.set_rollback(True)
                return response
            if getattr(response, "streaming", False):  # no body to keep: the key stays free
                claim.delete()
                return response
            claim.response_status = response.status_code
            claim.response_body = response.content.decode(response.charset or "utf-8")
            claim.response_content_type = response.get("Content-Type", "")
            claim.response_etag = response.get("ETag", "")
            claim.save(
                update_fields=[
                    "response_status",
                    "response_body",
                    "response_content_type",
                    "response_etag",
                ]
            )
        return response
