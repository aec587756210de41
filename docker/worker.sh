#!/bin/sh
# The background-job worker (ecrf.jobs on huey): same image and settings as web, no server.
# web's entrypoint migrates and keeps the generated secret key on the shared state volume.
set -eu

if [ -z "${SECRET_KEY:-}" ]; then
  key_file=/app/var/secret_key
  waited=0
  while [ ! -s "$key_file" ] && [ "$waited" -lt 120 ]; do sleep 2; waited=$((waited + 2)); done
  SECRET_KEY=$(cat "$key_file")
  export SECRET_KEY
fi

python manage.py wait_for_db --timeout "${DB_WAIT_SECONDS:-60}"
exec python manage.py run_huey --workers "${JOB_WORKERS:-2}"
