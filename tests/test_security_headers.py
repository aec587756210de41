"""Issue 13, finding 10: the API schema and docs need a signed-in user; every response carries
a same-origin Content-Security-Policy that the admin and the docs live with."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/docs/?script="])
def test_schema_and_docs_refuse_anonymous_clients(api_client_plain, path):
    response = api_client_plain.get(path)
    assert response.status_code == 401
    text = response.content.decode()
    assert "/api/patients/" not in text and "swagger-ui" not in text.lower()


def test_schema_and_docs_served_to_a_token_holder(client_for, make_user):
    client = client_for(make_user("mona", "monitor", "NCT03304288"))
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    # Swagger UI from this application (sidecar), its script a file of its own.
    assert "cdn.jsdelivr.net" not in page
    assert re.search(r"<script>\s*\S", page) is None
    assert 'src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"' in page


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def test_every_response_carries_the_policy(api_client_plain, client, superuser):
    assert api_client_plain.get("/api/patients/")["Content-Security-Policy"] == CSP
    login = client.get("/admin/login/")
    assert login["Content-Security-Policy"] == CSP
    client.force_login(superuser)
    page = client.get("/admin/ecrf/studyrole/add/")
    assert page.status_code == 200
    assert page["Content-Security-Policy"] == CSP
    html = page.content.decode()
    # What the policy would block in the admin: inline script, inline style, other origins.
    assert re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html) is None
    assert " style=" not in html
    assert re.search(r'(src|href)="https?://', html) is None
