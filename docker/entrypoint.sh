#!/bin/sh
# Container start: wait for PostgreSQL, migrate, load the shipped trials, then serve.
set -eu

if [ -z "${SECRET_KEY:-}" ]; then
  # No key given: make one once and keep it on the state volume, so sessions survive restarts.
  key_file=/app/var/secret_key
  if [ ! -s "$key_file" ]; then
    python -c 'import secrets; print(secrets.token_urlsafe(64))' > "$key_file"
    chmod 600 "$key_file"
  fi
  SECRET_KEY=$(cat "$key_file")
  export SECRET_KEY
fi

case "${DATABASE_URL:-}" in
  *://*:ecrf@* | *://*:change-me@* | *://*:postgres@* | *://*:password@*)
    echo "Refusing to start: the database password is a well-known default." >&2
    exit 1 ;;
esac

python manage.py wait_for_db --timeout "${DB_WAIT_SECONDS:-60}"
python manage.py migrate --noinput
python manage.py createcachetable  # no-op with Redis (CACHE_URL), needed for the database cache
python manage.py load_protocol --all
# The full CTCAE v5.0 dictionary (837 terms) shipped in ecrf/data/ctcae; unchanged terms are kept.
python manage.py import_ctcae

exec gunicorn ecrf.wsgi:application \
  --bind 0.0.0.0:8000 \
  --workers "${GUNICORN_WORKERS:-3}" \
  --access-logfile - \
  --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
