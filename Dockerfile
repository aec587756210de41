# The eCRF service: gunicorn serving Django, static files by whitenoise.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_MODE=production

WORKDIR /app

# Dependencies first (cached while only the code changes).
COPY pyproject.toml README.md ./
COPY domain/__init__.py domain/__init__.py
RUN pip install --upgrade pip && pip install .

COPY . .
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home /app ecrf \
    && mkdir -p /app/var \
    && chown -R ecrf /app/var

USER ecrf
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
