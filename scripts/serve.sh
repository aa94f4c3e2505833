#!/usr/bin/env bash
# Install Newsdesk into .venv and serve the bundled sample corpus on http://127.0.0.1:8000
# (API docs at /docs). The sample is loaded on first start and indexed in the background.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/newsdesk serve --sample "$@"
