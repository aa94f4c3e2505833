#!/usr/bin/env bash
# Serve the bundled sample corpus on http://127.0.0.1:8000 (API docs at /docs), installing
# Newsdesk into .venv first if it is not there yet. The sample is loaded on first start and
# indexed in the background. Options go to `newsdesk serve`: --port 9000, --host 0.0.0.0, ...
set -euo pipefail
cd "$(dirname "$0")/.."
# The install is editable, so code changes need no reinstall; only pyproject.toml does (its
# dependencies and the `newsdesk` command). Its hash, kept in the venv, says whether it changed.
stamp=.venv/.newsdesk-installed
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -x .venv/bin/newsdesk || "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]]; then
    echo "Installing Newsdesk into .venv (once; about a minute)..." >&2
    python3 -m venv .venv
    # pip's and setuptools' chatter goes to a log, shown only if the install fails
    if ! .venv/bin/python -m pip install --disable-pip-version-check -e . >.venv/install.log 2>&1
    then
        cat .venv/install.log >&2
        exit 1
    fi
    echo "$wanted" >"$stamp"
fi
exec .venv/bin/newsdesk serve --sample "$@"
