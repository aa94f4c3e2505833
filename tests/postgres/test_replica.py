"""Reads and searches go to a streaming read replica (NEWSDESK_DATABASE_READ_URL): a real one,
made with `pg_basebackup -R` from the test cluster and started beside it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from app.store.db import Database
from tests.conftest import POSTGRES_ADMIN, ids, make_client, postgres_database, search

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not POSTGRES_ADMIN, reason="needs a PostgreSQL cluster: NEWSDESK_TEST_POSTGRES"
    ),
]


def _as_owner(*command: str) -> None:
    """Run a PostgreSQL program as the cluster's owner (it refuses to run as root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def replica_port() -> Iterator[int]:
    """A hot standby of the test cluster, streaming from it; its port (one for the module: a
    base backup of the test cluster takes seconds)."""
    bin_dir = Path(os.environ.get("NEWSDESK_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
    primary = make_url(POSTGRES_ADMIN)
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-replica-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", _free_port()
    try:
        _as_owner(
            str(bin_dir / "pg_basebackup"),
            f"--host={primary.host}",
            f"--port={primary.port}",
            "--username=postgres",
            f"--pgdata={data}",
            "--write-recovery-conf",  # -R: standby.signal and primary_conninfo
            "--wal-method=stream",
            "--checkpoint=fast",
        )
        options = f"-p {port} -k {folder} -c hot_standby=on"
        _as_owner(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
                  "-o", options, "start")  # fmt: skip
        yield port
    except subprocess.CalledProcessError as exc:
        log = folder / "log"
        detail = log.read_text() if log.exists() else ""
        raise AssertionError(f"{exc.cmd[-1]} failed: {exc.stderr!r} {detail}") from None
    finally:
        if data.exists():
            subprocess.run(
                [*(["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []),
                 str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True, check=False,
            )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def _on_replica(primary: str, replica_port: int) -> tuple[str, str]:
    """The replica's URL for the test's database, and its admin URL, once it has replayed the
    database's creation (made on the primary after the replica)."""
    replica = make_url(primary).set(port=replica_port).render_as_string(hide_password=False)
    admin = make_url(replica).set(drivername="postgresql", database="postgres")
    replica_admin = admin.render_as_string(hide_password=False)
    database = make_url(primary).database
    deadline = time.monotonic() + 30
    with psycopg.connect(replica_admin, autocommit=True) as standby:
        while not standby.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone():
            assert time.monotonic() < deadline, f"the replica never had {database}"
            time.sleep(0.05)
    return replica, replica_admin


def test_reads_and_searches_go_to_the_replica(tmp_path: Path, replica_port: int) -> None:
    primary = postgres_database(tmp_path / "data")
    replica, replica_admin = _on_replica(primary, replica_port)
    with make_client(
        tmp_path, database_url=primary, database_read_url=replica, search_backend="postgres"
    ) as client:
        # ?refresh=wait returns once the replica has replayed the write: found through it.
        made = client.post(
            "/v1/articles",
            params={"refresh": "wait"},
            json={
                "title": "Réplique",
                "body": "Le typhon Hinnamnor touche Busan.",
                "language": "fr",
            },
        )
        assert made.status_code == 201, made.text
        article_id = made.json()["id"]
        assert ids(search(client, "hinnamnor")) == [article_id]
        assert client.get(f"/v1/articles/{article_id}").status_code == 200

        # Proof that reads are the replica's: with its replay paused, a new article is stored
        # on the primary but neither found nor fetched until the replica replays it.
        with psycopg.connect(replica_admin, autocommit=True) as standby:
            assert standby.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            standby.execute("SELECT pg_wal_replay_pause()")
            later = client.post(
                "/v1/articles", json={"body": "La mousson arrive à Séoul.", "language": "fr"}
            )
            assert later.status_code == 201
            later_id = later.json()["id"]
            time.sleep(0.5)
            assert search(client, "mousson")["total"] == 0
            assert client.get(f"/v1/articles/{later_id}").status_code == 404
            standby.execute("SELECT pg_wal_replay_resume()")
        deadline = time.monotonic() + 10
        while search(client, "mousson")["total"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ids(search(client, "mousson")) == [later_id]
        assert client.get(f"/v1/articles/{later_id}").json()["body"].startswith("La mousson")


def _offset_in_page(primary: psycopg.Connection[tuple[int]]) -> int:
    row = primary.execute(
        "SELECT ((pg_current_wal_insert_lsn() - '0/0'::pg_lsn)"
        " % current_setting('wal_block_size')::numeric)::int"
    ).fetchone()
    assert row is not None
    return row[0]


def _end_a_record_on_a_page_boundary(primary: psycopg.Connection[tuple[int]]) -> bool:
    """Write WAL (logical messages) until a record ends exactly where a WAL page ends, so that
    the insert position is just past the next page's header; False if other WAL kept getting
    in the way."""
    block = int(primary.execute("SHOW wal_block_size").fetchone()[0])  # type: ignore[index]
    for _ in range(50):
        room = block - _offset_in_page(primary)
        # A message of n bytes, prefix 'fill', is a record of MAXALIGN(55 + n) bytes here, or
        # MAXALIGN(58 + n) once its data passes 255 bytes; n = room - 60 fills the room in both.
        size = 0 if room < 64 else room - 60  # too little room: cross into the next page first
        primary.execute("SELECT pg_logical_emit_message(false, 'fill', repeat('x', %s))", (size,))
        if _offset_in_page(primary) in (24, 40):
            return True
    return False


def test_refresh_wait_when_a_record_ends_a_wal_page(tmp_path: Path, replica_port: int) -> None:
    """The primary's insert position is past a page header when its last record ended the page,
    and a replica that has replayed everything reports the page's start: the wait must see that
    it is caught up, not wait out its time limit."""
    primary = postgres_database(tmp_path / "data")
    replica, _ = _on_replica(primary, replica_port)
    db = Database(primary, read_url=replica)
    try:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as wal:
            for _ in range(20):
                assert _end_a_record_on_a_page_boundary(wal)
                caught_up = db.wait_for_replica(timeout=3)
                if _offset_in_page(wal) in (24, 40):  # no other WAL came while it waited
                    assert caught_up
                    return
            pytest.fail("other WAL kept moving the primary's insert position")
    finally:
        db.dispose()


def test_a_read_url_that_is_no_standby_needs_no_wait(tmp_path: Path) -> None:
    """A read URL in front of the primary itself (a pooler, a promoted standby) has nothing to
    replay: ?refresh=wait must not wait for a replay that never comes."""
    primary = postgres_database(tmp_path / "data")
    same = f"{primary}?application_name=reads"
    db = Database(primary, read_url=same)
    try:
        assert db.read_engine is not db.write_engine
        assert db.wait_for_replica(timeout=5) is True
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", ["postgres", "whoosh"])
def test_a_replica_that_cannot_be_reached(tmp_path: Path, backend: str) -> None:
    """A write is committed on the primary before ?refresh=wait asks the replica (or, with the
    Whoosh index, the outbox it reads there): a replica that is down makes the wait run out (201,
    the article kept); reads answer 503, not 500, and /health says degraded with a 503. The
    Whoosh index's outbox is read on the primary: its writes are indexed, and waited for, as
    if there were no replica."""
    primary = postgres_database(tmp_path / "data")
    nowhere = make_url(primary).set(port=_free_port()).render_as_string(hide_password=False)
    with make_client(
        tmp_path, database_url=primary, database_read_url=nowhere, search_backend=backend,
        indexer="process", refresh_wait_seconds=0.5 if backend == "postgres" else 60,
    ) as client:  # fmt: skip
        typhoon = {"body": "Le typhon.", "language": "fr"}
        made = client.post("/v1/articles", params={"refresh": "wait"}, json=typhoon)
        assert made.status_code == 201, made.text
        for response in (
            client.get(f"/v1/articles/{made.json()['id']}"),
            client.get("/v1/search", params={"q": "typhon"}),
        ):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == "5"
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["store"] == {"ok": False, "articles": None}
    direct_url = make_url(primary).set(drivername="postgresql")
    with psycopg.connect(direct_url.render_as_string(hide_password=False)) as direct:
        assert direct.execute("SELECT count(*) FROM article").fetchone() == (1,)


@contextlib.contextmanager
def _accepting_late(port: int, target: int, delay: float) -> Iterator[None]:
    """After `delay` seconds, accept on `port` and relay each connection to `target`: a
    PostgreSQL that starts accepting connections late."""
    sockets: list[socket.socket] = []
    stop = threading.Event()

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)

    def serve() -> None:
        if stop.wait(delay):
            return
        listener = socket.create_server(("127.0.0.1", port))
        listener.settimeout(0.1)
        sockets.append(listener)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(("127.0.0.1", target))
            sockets.extend((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    relay = threading.Thread(target=serve, daemon=True)
    relay.start()
    try:
        yield
    finally:
        stop.set()
        relay.join(timeout=5)
        for each in sockets:
            each.close()


def test_the_server_waits_for_postgresql_at_start(tmp_path: Path) -> None:
    """A PostgreSQL that accepts connections only after the API starts (both started together)
    is waited for, up to NEWSDESK_DATABASE_WAIT_SECONDS, rather than the start failing."""
    primary = make_url(postgres_database(tmp_path / "data"))
    port = _free_port()
    assert primary.port is not None
    late = primary.set(port=port).render_as_string(hide_password=False)
    with (
        _accepting_late(port, primary.port, delay=2.0),
        make_client(tmp_path, database_url=late, database_wait_seconds=30) as client,
    ):
        made = client.post("/v1/articles", params={"refresh": "wait"}, json={"body": "Tard."})
        assert made.status_code == 201, made.text
        assert client.get("/health").json()["status"] == "ok"
