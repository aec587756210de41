"""Issue 13, finding 12: the compose file refuses a missing password, listens on loopback,
trusts forwarded headers only from the proxy, pins its images, health-checks the service and
shares a Redis cache; the container's health check has an endpoint to call."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# name:major.minor[.patch][-variant][@sha256:digest] — never a bare major version or "latest".
PINNED = re.compile(r"[\w./-]+:\d+\.\d+(\.\d+)?(-[\w.-]+)?(@sha256:[0-9a-f]{64})?")


def test_database_password_is_required_everywhere_it_is_used():
    text = (ROOT / "docker-compose.yml").read_text()
    uses = re.findall(r"\$\{POSTGRES_PASSWORD([^}]*)\}", text)
    assert len(uses) == 3  # db, web and the job worker
    assert all(use.startswith(":?") for use in uses), uses
    assert re.search(r"^POSTGRES_PASSWORD=$", (ROOT / ".env.example").read_text(), re.M)


def test_entrypoint_refuses_well_known_passwords():
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert "*://*:ecrf@* | *://*:change-me@*" in entrypoint


def test_web_listens_on_loopback_unless_told_otherwise():
    assert SERVICES["web"]["ports"] == ["${BIND_ADDRESS:-127.0.0.1}:${WEB_PORT:-8000}:8000"]
    assert "ports" not in SERVICES["db"] and "ports" not in SERVICES["cache"]


def test_forwarded_headers_are_trusted_only_from_the_proxy():
    env = SERVICES["web"]["environment"]
    assert env["FORWARDED_ALLOW_IPS"] == "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
    assert env["NUM_PROXIES"] == "${NUM_PROXIES:-0}"
    assert "FORWARDED_ALLOW_IPS=*" not in (ROOT / ".env.example").read_text()
    settings_text = (ROOT / "ecrf" / "settings.py").read_text()
    assert "SECURE_PROXY_SSL_HEADER =" not in settings_text


def test_images_are_pinned_to_exact_versions():
    images = [SERVICES["db"]["image"], SERVICES["cache"]["image"]]
    images += re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    for image in images:
        assert PINNED.fullmatch(image), image


def test_web_is_health_checked_and_uses_the_shared_cache():
    web = SERVICES["web"]
    assert web["healthcheck"]["test"] == ["CMD", "python", "/app/docker/healthcheck.py"]
    assert web["environment"]["CACHE_URL"] == "redis://cache:6379/0"
    assert web["depends_on"]["cache"] == {"condition": "service_healthy"}


@pytest.mark.django_db
def test_health_endpoint_answers_without_login(api_client_plain):
    response = api_client_plain.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_redis_url_selects_the_redis_cache():
    import subprocess
    import sys

    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'ecrf.settings'; "
        "from django.conf import settings; c = settings.CACHES['default']; "
        "print(c['BACKEND'], c['LOCATION'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "CACHE_URL": "redis://cache:6379/0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://cache:6379/0",
    ]


def test_jobs_run_on_a_worker_through_redis():
    """Issue 12: web and the worker share the Redis queue; the worker runs huey's consumer."""
    worker = SERVICES["worker"]
    assert worker["entrypoint"] == ["/app/docker/worker.sh"]
    assert "exec python manage.py run_huey" in (ROOT / "docker" / "worker.sh").read_text()
    for service in (SERVICES["web"], worker):
        assert service["environment"]["JOBS_REDIS_URL"] == "redis://cache:6379/1"
    assert "ports" not in worker
