#!/usr/bin/env bash
# Install Newsdesk with its dev tools into .venv, then run the whole suite: the Whoosh import
# check, ruff, mypy on app/, hadolint on the Dockerfile, and pytest on SQLite and Whoosh.
#
# With NEWSDESK_TEST_POSTGRES set (a superuser URL; `eval "$(bash scripts/postgres.sh start)"`
# makes a throwaway cluster, as .ci/run does), the API and search tests run twice more: with
# the store on PostgreSQL and PostgreSQL search (with schemathesis against a live server and
# tests/postgres, a streaming read replica), then with the store on PostgreSQL and Whoosh.
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
.venv/bin/hadolint --failure-threshold warning Dockerfile
postgres=${NEWSDESK_TEST_POSTGRES:-}
NEWSDESK_TEST_POSTGRES='' .venv/bin/python -m pytest "$@"
if [[ -n $postgres ]]; then
    echo "== the API and search tests again: PostgreSQL store, PostgreSQL search"
    NEWSDESK_TEST_POSTGRES=$postgres NEWSDESK_TEST_SEARCH_BACKEND=postgres \
        .venv/bin/python -m pytest tests/api tests/search tests/postgres tests/contract "$@"
    echo "== the API and search tests again: PostgreSQL store, Whoosh search"
    NEWSDESK_TEST_POSTGRES=$postgres NEWSDESK_TEST_SEARCH_BACKEND=whoosh \
        .venv/bin/python -m pytest tests/api tests/search "$@"
fi
