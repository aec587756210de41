"""Expiring API tokens (issue 13, finding 4).

A login replaces the user's earlier tokens; a token expires after `API_TOKEN_TTL`; it dies
when the password changes (its fingerprint is Django's session hash, an HMAC of the password
hash, so a new password gives a new fingerprint); an administrator revokes it in the admin.
Only a SHA-256 digest of the key is stored: a database dump holds no usable token.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from ecrf.models import ApiToken, SecurityEvent


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_token(user) -> tuple[str, ApiToken]:
    """A fresh token for `user`; the user's earlier tokens stop working."""
    ApiToken.objects.filter(user=user).delete()
    key = secrets.token_hex(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        created_at=now,
        digest=_digest(key),
        prefix=key[:8],
        user=user,
        expires_at=now + settings.API_TOKEN_TTL,
        password_fingerprint=user.get_session_auth_hash(),
    )
    return key, token


def revoke_tokens(tokens, *, actor) -> int:
    """Revokes tokens (admin action); each revocation goes to the security event log."""
    now = timezone.now()
    revoked = 0
    for token in tokens.filter(revoked_at__isnull=True).select_related("user"):
        token.revoked_at = now
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        SecurityEvent.objects.create(
            kind=SecurityEvent.Kind.TOKEN_REVOKED,
            username=token.user.get_username(),
            user=token.user,
            channel="admin",
            detail=f"token {token.prefix}… revoked by {actor.get_username()}",
        )
        revoked += 1
    return revoked


class ExpiringTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`, checked against expiry, revocation and password."""

    keyword = "Token"
    failure = "Invalid, expired or revoked token; log in again at /api/auth/token/."

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token header.") from exc
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=_digest(key), revoked_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(self.failure)
        if not constant_time_compare(
            token.password_fingerprint, token.user.get_session_auth_hash()
        ):
            raise exceptions.AuthenticationFailed(self.failure)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token header in the OpenAPI schema."""

    target_class = "ecrf.tokens.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <key>` from POST /api/auth/token/; it expires (`expires_at`) and is "
                "replaced by the next login."
            ),
        }
