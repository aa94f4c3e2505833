"""Schemathesis against a live server's OpenAPI document: every operation, stateful, all checks.

The server runs with write keys, read keys and the rate limiter on, so the document declares
security and 401/403/429 everywhere they apply, and schemathesis's `ignored_auth` check sends
requests without the key to prove the declarations are enforced. The seed is fixed: a failure
reproduces with the command printed in the assertion message.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_ADMIN, SEARCH_BACKEND, postgres_database
from tests.durability.server import Server

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
WRITE_KEY = "contract-write-key"
READ_KEY = "contract-read-key"
SEED = "20261128"
EXAMPLES = "100"


@pytest.mark.slow
def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    # On the PostgreSQL pass of scripts/test.sh, the server stores and searches there.
    backend = (
        {
            "NEWSDESK_DATABASE_URL": postgres_database(tmp_path / "data"),
            "NEWSDESK_SEARCH_BACKEND": SEARCH_BACKEND,
        }
        if POSTGRES_ADMIN
        else {}
    )
    server = Server(
        tmp_path / "data",
        NEWSDESK_API_KEYS=WRITE_KEY,
        NEWSDESK_READ_KEYS=READ_KEY,
        NEWSDESK_RATE_LIMIT="1000/second",
        **backend,
    )
    with server:
        spec = httpx.get(f"{server.url}/openapi.json").json()
        operations = sum(len(methods) for methods in spec["paths"].values())
        command = [
            str(SCHEMATHESIS),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--seed",
            SEED,
            "--max-examples",
            EXAMPLES,
            "--header",
            f"Authorization: Bearer {WRITE_KEY}",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path / "report"),
        ]
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.hooks", "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    assert "No issues found" in output
    tested = re.search(r"Tested:\s+(\d+)", output)
    assert tested and int(tested.group(1)) == operations, output[-3000:]
    assert re.search(r"Stateful", output)
    log = server.log.read_text()
    assert "unexpected error" not in log and "Traceback" not in log
