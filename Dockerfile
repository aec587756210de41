# The eCRF service: gunicorn serving Django, static files by whitenoise.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_MODE=production

WORKDIR /app

# Dependencies first (cached while only the code changes).
COPY pyproject.toml README.md ./
COPY ecrf/__init__.py ecrf/__init__.py
RUN pip install --upgrade pip && pip install .

COPY . .
# The NCI CTCAE v5.0 workbook ships in ecrf/data/ctcae; the entrypoint loads it (837 terms).
RUN test -s ecrf/data/ctcae/CTCAE_v5.0_2017-11-27.xlsx \
    && SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home /app ecrf \
    && mkdir -p /app/var \
    && chown -R ecrf /app/var

USER ecrf
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
