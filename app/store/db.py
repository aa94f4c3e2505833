"""Engines and sessions for the store, and the Alembic upgrade that creates its schema."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.config import MIGRATIONS_DIR

log = logging.getLogger("newsdesk.store")


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred and lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed write survives a process crash *and* power loss (fsync per commit).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front, so a read-then-write never fails on a stale snapshot.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def is_postgres(url: str) -> bool:
    """Whether the URL names a PostgreSQL database."""
    return url.startswith("postgresql")


# SQLSTATEs of a transaction that lost to another and may simply run again: a deadlock, a
# serialization failure (on a hot standby, a read cancelled by a conflict with recovery).
RETRYABLE = frozenset({"40P01", "40001"})


def is_retryable(exc: BaseException) -> bool:
    """Whether a database error ended a transaction that may be run again as it was."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in RETRYABLE


# SQLSTATEs of a PostgreSQL server that cannot take the request now: shutting down, restarting,
# starting up, out of connections; class 08 is a connection that failed or broke.
_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "53300"})


# A connection refused for a mistake in the URL, which waiting does not cure.
_MISTAKES = ("does not exist", "authentication failed", "no pg_hba.conf entry")


def is_unavailable(exc: BaseException) -> bool:
    """Whether a database error says the PostgreSQL server could not be reached or could not
    serve now (no SQLSTATE: the client could not connect at all), as opposed to a fault."""
    orig = getattr(exc, "orig", None)
    if type(orig).__module__.split(".")[0] != "psycopg" or not isinstance(exc, OperationalError):
        return False
    state: str | None = getattr(orig, "sqlstate", None)
    if state is None:  # libpq's own failures carry no SQLSTATE: a wrong URL is no outage
        return not any(mistake in str(orig) for mistake in _MISTAKES)
    return state.startswith("08") or state in _UNAVAILABLE


def unavailable_reason(exc: BaseException) -> str:
    """The driver's own first line on why the server could not be reached."""
    lines = str(getattr(exc, "orig", exc)).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log a failed step: one line while PostgreSQL cannot be reached (it comes back by itself,
    and a traceback a second would bury the log), the traceback for anything else."""
    if is_unavailable(exc):
        logger.warning("%s: the database is unavailable (%s)", what, unavailable_reason(exc))
    else:
        logger.error("%s", what, exc_info=exc)


# Where a replica must have replayed to, for everything committed so far to be on it: the
# primary's insert position (with synchronous_commit off a commit may not be written yet). When
# the last record ended at a WAL page boundary, that position is the next record's start, past
# the new page's header (24 bytes; 40 at a segment's start), while a replica's replay position
# is the end of the last record, the page's start: there the page's start is the target, or an
# idle primary would leave ?refresh=wait waiting out its time limit.
# In bytes from '0/0' (pg_lsn minus numeric needs PostgreSQL 14; pg_lsn minus pg_lsn does not).
_REPLAYED_ONCE_PAST = text(
    "SELECT CASE WHEN at % block IN (24, 40) THEN at - at % block ELSE at END"
    " FROM (SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS at,"
    " current_setting('wal_block_size')::numeric AS block) AS here"
)

# Any constant: every process migrating the same PostgreSQL database takes this advisory lock.
_MIGRATION_LOCK = 7_412_093


class Database:
    """The store's engines: one for reads and one for writes.

    On SQLite both open the same file (writers begin IMMEDIATE); on PostgreSQL they are one
    engine, or the reads go to a streaming replica when `read_url` is given.
    """

    def __init__(self, url: str, *, read_url: str | None = None) -> None:
        self.url = url
        self.postgres = is_postgres(url)
        if _is_sqlite(url):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
            self.write_engine = _sqlite_engine(url, immediate=True)
        else:
            self.write_engine = create_engine(url, pool_pre_ping=True)
            self.read_engine = (
                create_engine(read_url, pool_pre_ping=True) if read_url else self.write_engine
            )

    @contextmanager
    def reading(self, *, primary: bool = False) -> Iterator[Session]:
        """A session for reads; on the primary when `primary` (the index outbox and the write
        path's own checks must not lag behind a replica, nor fail with it). On SQLite both
        engines open the one file, and the writers' engine would take the write lock."""
        engine = self.write_engine if primary and self.postgres else self.read_engine
        with Session(engine) as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with Session(self.write_engine, expire_on_commit=False) as session, session.begin():
            yield session

    def wait_for_replica(self, timeout: float) -> bool:
        """Wait until the read replica has replayed everything committed on the primary so far;
        False if `timeout` seconds pass first. Without a replica there is nothing to wait for,
        nor when the read URL is no standby (a pooler in front of the primary, a promoted one).

        The write is committed before this runs: a replica that cannot be reached (restarting,
        or not yet holding the database) is waited for like a slow one, never an error.
        """
        if self.read_engine is self.write_engine:
            return True
        with self.write_engine.connect() as primary:
            lsn = primary.execute(_REPLAYED_ONCE_PAST).scalar_one()
        deadline = time.monotonic() + timeout
        check = text(
            "SELECT coalesce(pg_last_wal_replay_lsn() - '0/0'::pg_lsn >= CAST(:lsn AS numeric),"
            " NOT pg_is_in_recovery())"
        )
        while True:
            try:
                with self.read_engine.connect() as replica:
                    while True:
                        if replica.execute(check, {"lsn": lsn}).scalar_one():
                            return True
                        replica.rollback()
                        if time.monotonic() >= deadline:
                            break
                        time.sleep(0.02)
                problem = "had not replayed"
            except OperationalError as exc:
                problem = f"could not be asked ({unavailable_reason(exc)}) whether it had replayed"
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
            log.warning("the read replica %s %s after %.1f s", problem, lsn, timeout)
            return False

    def _wait_until_reachable(self, wait: float) -> None:
        """Wait up to `wait` seconds for a PostgreSQL that cannot be reached yet."""
        deadline = time.monotonic() + wait
        while True:
            try:
                with self.write_engine.connect():
                    return
            except OperationalError as exc:
                if not is_unavailable(exc) or time.monotonic() >= deadline:
                    raise
                log_failure(log, f"waiting up to {wait:.0f} s for the database at start", exc)
                time.sleep(1.0)

    def migrate(self, *, wait: float = 0.0) -> None:
        """Bring the schema to the newest Alembic revision, once the database can be reached
        (within `wait` seconds)."""
        if self.postgres:
            self._wait_until_reachable(wait)
        with self.write_engine.connect() as connection:
            if self.postgres:  # replicas starting together: one migrates, the others wait
                connection.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
                connection.commit()
            try:
                config = alembic_config(self.url)
                config.attributes["connection"] = connection
                before = MigrationContext.configure(connection).get_current_revision()
                connection.commit()  # Alembic commits only a transaction it began itself
                command.upgrade(config, "head")
                after = MigrationContext.configure(connection).get_current_revision()
                connection.commit()
                if after != before:
                    log.info("store schema migrated from %s to %s", before or "nothing", after)
            finally:
                if self.postgres:  # the lock is the session's: the pooled connection lives on
                    connection.rollback()
                    connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
                    connection.commit()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at this project's `migrations/` and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
