#!/usr/bin/env bash
# Install Newsdesk with its dev tools into .venv, then run the whole suite:
# the Whoosh import check, ruff, mypy on app/, and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
# whoosh-reloaded must import cleanly with SyntaxWarnings as errors (the old `whoosh` does not).
.venv/bin/python -W error::SyntaxWarning -c "import whoosh.index, whoosh.qparser, whoosh.highlight"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy app
.venv/bin/python -m pytest "$@"
