#!/usr/bin/env bash
# Set up .venv if needed and start the dashboard: ./scripts/run.sh [extra streamlit flags]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_venv.sh requirements.txt
exec .venv/bin/streamlit run streamlit_app.py "$@"
