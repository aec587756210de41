"""Benchmark-only settings: the product's settings plus a bare lab-insert endpoint (bench/urls.py).

Never used by the product; bench scripts start gunicorn with DJANGO_SETTINGS_MODULE=bench.settings.
"""

import warnings

from ecrf.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# Requests of the load generator are not worth a log line each.
LOGGING = {"version": 1, "disable_existing_loggers": False}

# No collected static files in a checkout; whitenoise's warning would repeat in every worker.
warnings.filterwarnings("ignore", message="No directory at")
