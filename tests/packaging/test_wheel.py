"""A wheel stands alone: built from the project's files, installed away from the checkout, it
migrates its store and serves the bundled sample, as `pip install newsdesk` would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.config import PROJECT_ROOT
from tests.durability.server import Server

pytestmark = pytest.mark.slow

# What a source distribution holds; tests/, bench/ and the runtime state stay behind.
SHIPPED = ("pyproject.toml", "README.md", "app", "migrations", "data/sample")


def _run(*command: str | Path, **options: object) -> str:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=600, **options
    )  # type: ignore[call-overload]
    assert done.returncode == 0, f"{command[:4]}: {done.stdout[-2000:]} {done.stderr[-2000:]}"
    output: str = done.stdout
    return output


def test_an_installed_wheel_serves_the_sample(tmp_path: Path) -> None:
    source = tmp_path / "source"
    for name in SHIPPED:
        origin, copy = PROJECT_ROOT / name, source / name
        if origin.is_dir():
            shutil.copytree(origin, copy, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, copy)
    dist, site = tmp_path / "dist", tmp_path / "site"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--wheel-dir", dist, source)
    (wheel,) = dist.glob("newsdesk-*.whl")
    _run(sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", site, wheel)

    # The wheel's own code, not the checkout's editable install, answers in that environment.
    env = {**os.environ, "PYTHONPATH": str(site)}
    found = _run(sys.executable, "-c", "import app; print(app.__file__)", env=env, cwd=tmp_path)
    assert Path(found.strip()).is_relative_to(site)

    server = Server(
        tmp_path / "data", program=site / "bin" / "newsdesk", options=["--sample"],
        PYTHONPATH=str(site),
    )  # fmt: skip
    try:  # --sample loads the store before the server answers
        with httpx.Client(base_url=server.start(timeout=300).url, timeout=30) as client:
            health = server.wait_drained(client)
            assert health["store"]["articles"] == 1992
            coree = client.get("/v1/search", params={"q": "coree"}).json()
            assert coree["total"] == 20
            assert "<mark>Corée</mark>" in str(coree["hits"])
    finally:
        server.stop()
