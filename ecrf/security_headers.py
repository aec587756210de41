"""Content-Security-Policy on every response (issue 13, finding 10).

Django 5.2 has no built-in CSP. The admin and the API docs (Swagger UI served from the
application itself by drf-spectacular-sidecar, its script as a separate file) run no inline
script and load nothing from other origins, so a strict same-origin policy keeps them working.
"""

from __future__ import annotations

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
