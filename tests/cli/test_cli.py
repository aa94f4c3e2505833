"""The `newsdesk` command, run as a user would: a subprocess on a temporary data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app import __version__
from app.config import Settings
from tests.conftest import KBS_RAW, ids, make_client, search
from tests.durability.server import Server

# The console script installed beside this interpreter, as a user runs it.
NEWSDESK = Path(sys.executable).parent / "newsdesk"


def run(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), **env}
    environment.pop("NEWSDESK_API_KEYS", None)
    environment.update(env)
    return subprocess.run(
        [str(NEWSDESK), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=240,
    )


def test_ingest_json_jsonl_and_txt_then_search(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "raw").mkdir(parents=True)
    (corpus / "raw" / "kbs.txt").write_bytes(KBS_RAW.read_bytes())
    lines = [
        {
            "id": "x-1",
            "license": "CC BY",
            "title": "Séisme",
            "body": "Un séisme au Japon.",
            "published_at": "2016-04-16",
            "language": "fr",
        },
        {"id": "x-2", "title": "Tempête", "body": "Une tempête en Bretagne.", "language": "fr"},
        {"title": "Sans corps"},
    ]
    (corpus / "a.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    (corpus / "b.json").write_text(json.dumps([{"body": "Un article en JSON sur Lyon."}]))
    data = tmp_path / "data"

    first = run("ingest", str(corpus), "--source", "KBS World", data_dir=data)
    assert first.returncode == 1, first.stderr  # one bad record
    assert "4 created, 0 updated, 0 unchanged, 1 errors" in first.stdout
    assert "a.jsonl:3" in first.stderr

    again = run(
        "ingest",
        str(corpus / "raw"),
        str(corpus / "b.json"),
        "--source",
        "KBS World",
        data_dir=data,
    )
    assert again.returncode == 0, again.stderr
    assert "0 created, 0 updated, 2 unchanged, 0 errors" in again.stdout

    with make_client(tmp_path, data_dir=data) as client:
        found = search(client, "coree")
        assert found["total"] == 1
        article = client.get(f"/v1/articles/{ids(found)[0]}").json()
        assert article["published_at"] == "2023-09" and article["source"] == "KBS World"
        index = client.get("/health").json()["index"]
        assert (index["ok"], index["documents"], index["pending"]) == (True, 4, 0)


def test_ingest_missing_path_fails_clearly(tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path / "nope"), data_dir=tmp_path / "data")
    assert result.returncode != 0
    assert "no such file or folder" in result.stderr


def test_serve_refuses_open_writes_off_loopback(tmp_path: Path) -> None:
    result = run("serve", "--host", "0.0.0.0", data_dir=tmp_path / "data")
    assert result.returncode != 0
    assert "NEWSDESK_API_KEYS" in result.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"NEWSDESK_READ_KEYS": "r-only"}, "NEWSDESK_API_KEYS"),
        ({"NEWSDESK_RATE_LIMIT": "lots"}, "NEWSDESK_RATE_LIMIT"),
        ({"NEWSDESK_SEARCH_BACKEND": "postgres"}, "NEWSDESK_DATABASE_URL=postgresql://"),
        ({"NEWSDESK_DATABASE_READ_URL": "postgresql://replica/db"}, "NEWSDESK_DATABASE_URL"),
        ({"NEWSDESK_SEARCH_BACKEND": "elastic"}, "NEWSDESK_SEARCH_BACKEND"),
    ],
)
def test_serve_refuses_a_bad_configuration_in_one_line(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = run("serve", data_dir=tmp_path / "data", **env)
    assert result.returncode != 0
    assert named in result.stderr and "Traceback" not in result.stderr


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSDESK_API_KEYS", "a, b,,c")
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.api_keys == ["a", "b", "c"]
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'newsdesk.db'}"
    # The URLs platforms hand out (postgres://, postgresql://) are served by psycopg 3.
    for given in ("postgres://u:p@db:5432/news", "postgresql://u:p@db:5432/news"):
        monkeypatch.setenv("NEWSDESK_DATABASE_URL", given)
        assert Settings().resolved_database_url == "postgresql+psycopg://u:p@db:5432/news"


@pytest.mark.slow
def test_served_with_keys_on_all_interfaces(tmp_path: Path) -> None:
    """Bound to 0.0.0.0 with keys it starts; no header names the server; no key reaches the log."""
    write_key, read_key = "w-9f8e7d6c5b4a", "r-0a1b2c3d4e5f"
    server = Server(
        tmp_path / "data", host="0.0.0.0", NEWSDESK_API_KEYS=write_key, NEWSDESK_READ_KEYS=read_key
    )
    with server, httpx.Client(base_url=server.url) as client:
        article = {"body": "Un article écrit avec une clé.", "language": "fr"}
        assert client.post("/v1/articles", json=article).status_code == 401
        wrong = {"Authorization": f"Bearer {write_key}-wrong"}
        assert client.post("/v1/articles", json=article, headers=wrong).status_code == 401
        reader = {"Authorization": f"Bearer {read_key}"}
        assert client.post("/v1/articles", json=article, headers=reader).status_code == 403
        writer = {"Authorization": f"Bearer {write_key}"}
        created = client.post("/v1/articles", json=article, headers=writer)
        assert created.status_code == 201
        assert client.get("/v1/articles").status_code == 401
        response = client.get("/v1/articles", headers=reader)
        assert response.json()["total"] == 1
        for served in (response, created, client.get("/health"), client.get("/nowhere")):
            assert "server" not in served.headers
            assert "x-powered-by" not in served.headers
    log = server.log.read_text()
    assert "0.0.0.0" in log
    assert write_key not in log and read_key not in log


def test_backup_where_no_file_can_be_written_is_a_one_line_error(tmp_path: Path) -> None:
    with make_client(tmp_path):  # a store to back up
        pass
    # Not even root may create a file in /proc (a container's user cannot in a root-owned mount).
    result = run("backup", "/proc/newsdesk-snapshot.db", data_dir=tmp_path / "data")
    assert result.returncode != 0
    assert "cannot write the snapshot" in result.stderr and "Traceback" not in result.stderr


def test_version_and_data_dir_on_every_command(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    shown = run("--version", data_dir=elsewhere)
    assert shown.returncode == 0 and shown.stdout.strip() == f"newsdesk, version {__version__}"
    for command in ("serve", "ingest", "reindex", "check", "backup"):
        assert "--data-dir" in run(command, "--help", data_dir=elsewhere).stdout, command
    source = tmp_path / "one.jsonl"
    article = {"title": "Dépêche", "body": "Le président a parlé.", "language": "fr"}
    source.write_text(json.dumps(article) + "\n")
    chosen = tmp_path / "chosen"
    # NEWSDESK_DATA_DIR names another directory: the option wins
    assert run("ingest", "--data-dir", str(chosen), str(source), data_dir=elsewhere).returncode == 0
    report = run("check", "--json", "--data-dir", str(chosen), data_dir=elsewhere)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout.strip().splitlines()[-1])["articles"] == 1
    assert (chosen / "newsdesk.db").exists() and not elsewhere.exists()


@pytest.mark.slow
def test_a_start_says_in_one_line_where_and_what_it_serves(tmp_path: Path) -> None:
    """One line names the address, the data and the backends; no Alembic or Uvicorn chatter,
    no PostgreSQL migration title on SQLite; the store says once that its schema was made."""
    data = tmp_path / "data"
    servers = [Server(data), Server(data)]  # the second start finds the schema current
    for server in servers:
        with server:
            pass
    first, second = (server.log.read_text() for server in servers)
    for server, log in zip(servers, (first, second), strict=True):
        lines = [line for line in log.splitlines() if "serving http://" in line]
        assert len(lines) == 1, log
        assert f"http://127.0.0.1:{server.port}" in lines[0]
        assert str(data.resolve()) in lines[0]
        assert "SQLite" in lines[0] and "Whoosh" in lines[0]
        for chatter in ("alembic", "PostgreSQL", "Started server process", "setuptools"):
            assert chatter not in log, (chatter, log)
    assert first.count("store schema migrated from nothing to") == 1
    assert "store schema migrated" not in second


def test_a_raw_file_keeps_the_source_its_sidecar_names(tmp_path: Path) -> None:
    """The bundled sample's KBS dispatch says its source in a sidecar: re-ingesting the
    sample's raw folder keeps it; a sidecar wins over --source, which serves files without."""
    sample_raw = Path(__file__).resolve().parents[2] / "data" / "sample" / "raw"
    data = tmp_path / "data"
    for _ in range(2):
        result = run("ingest", str(sample_raw), data_dir=data)
        assert result.returncode == 0, result.stderr
    assert "1 files:" in result.stdout and "1 unchanged" in result.stdout  # not an article
    with make_client(tmp_path, data_dir=data) as client:
        (kbs,) = client.get("/v1/articles").json()["items"]
    assert (kbs["source"], kbs["language"]) == ("KBS World", "fr")

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kbs.txt").write_bytes(KBS_RAW.read_bytes())
    (corpus / "kbs.meta.json").write_text(json.dumps({"source": "KBS World Radio"}))
    plain = "date 2024-01\n\nLe président a parlé à la nation, a rapporté la télévision."
    (corpus / "plain.txt").write_text(plain)
    result = run("ingest", str(corpus), "--source", "Agence", data_dir=data)
    assert result.returncode == 0, result.stderr

    with make_client(tmp_path, data_dir=data) as client:
        sources = {a["body"][:20]: a["source"] for a in client.get("/v1/articles").json()["items"]}
    assert sorted(sources.values()) == ["Agence", "KBS World Radio"]

    # named on the command line (`ingest corpus/*`), a sidecar is still no article
    listed = run(
        "ingest", *(str(p) for p in sorted(corpus.iterdir())), "--source", "Agence", data_dir=data
    )
    assert listed.returncode == 0, listed.stderr
    assert "2 files: 0 created, 0 updated, 2 unchanged, 0 errors" in listed.stdout

    (corpus / "kbs.meta.json").write_text(json.dumps({"sauce": "KBS"}))
    broken = run("ingest", str(corpus / "kbs.txt"), data_dir=data)
    assert broken.returncode == 1
    assert "kbs.meta.json: unknown field(s) sauce" in broken.stderr
    assert "Traceback" not in broken.stderr
