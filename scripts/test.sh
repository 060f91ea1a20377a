#!/usr/bin/env bash
# Set up .venv with the development tools if needed, lint, and run every test: ./scripts/test.sh [pytest args]
# Browser tests use Debian's /usr/bin/chromium; without it they skip, unless REQUIRE_BROWSER=1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_venv.sh requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
