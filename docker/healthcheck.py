"""Container health check: GET /healthz (database reachable) as the first allowed host."""

import os
import sys
import urllib.request

host = (os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip() or "localhost").lstrip(
    "."
)
request = urllib.request.Request(
    "http://127.0.0.1:8000/healthz",
    # gunicorn trusts 127.0.0.1 (FORWARDED_ALLOW_IPS), so no redirect to HTTPS.
    headers={"Host": host, "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 - fixed URL
        sys.exit(0 if response.status == 200 else 1)
except Exception:  # any failure is "unhealthy"
    sys.exit(1)
