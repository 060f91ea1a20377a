#!/usr/bin/env bash
# Set up .venv if needed and start the dashboard: ./scripts/run.sh [extra streamlit flags]
# serve.py, as deployed: the page (streamlit_app.py), warmed up in the background as the server starts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_venv.sh requirements.txt
exec .venv/bin/streamlit run serve.py "$@"
