"""The index writer in a process of its own, so that it never waits for the request threads' GIL.

Under 16 concurrent clients a writer thread inside the serving process got so little of the
interpreter that articles took 20 s or more to become searchable; in its own process it has
a core. The process is started by the app's lifespan, elects itself (or not) with the same
lock file as the thread, stops on SIGTERM and exits by itself when its parent dies.

No lock is shared with it: a process killed while holding a multiprocessing lock (an Event,
a locked Value) would hang its parent on the next use. So it polls the outbox every 50 ms
instead of being woken, and reports through lock-free shared bytes.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.util
import os
import signal
import threading
from pathlib import Path
from typing import Any

from app.logs import LOG_FORMAT
from app.metrics import Metrics, multiprocess
from app.search.index import IndexStore
from app.search.writer import IndexWriterThread, wait_until_indexed
from app.store.db import Database

log = logging.getLogger("newsdesk.indexer")
_CONTEXT = multiprocessing.get_context("spawn")  # the parent runs threads: never fork it
_POLL_SECONDS = 0.05


def _main(
    database_url: str,
    index_dir: str,
    lock_path: str,
    batch_size: int,
    leading: Any,
    failing: Any,
    merging: Any,
    parent: int,
) -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl+C reaches the whole group
    db = Database(database_url)
    indexes = IndexStore(Path(index_dir))
    writer = IndexWriterThread(
        db=db,
        indexes=indexes,
        lock_path=Path(lock_path),
        batch_size=batch_size,
        poll_seconds=_POLL_SECONDS,
        # its counts reach /metrics through the server's shared files, or not at all
        metrics=Metrics() if multiprocess() else None,
    )
    writer.start()
    try:
        while not stop.wait(0.5):
            leading.value = writer.leading
            failing.value = writer.last_error is not None or not writer.alive
            merging.value = writer.merging
            if os.getppid() != parent:  # the server was killed: do not outlive it
                break
    finally:
        writer.stop()
        indexes.close()
        db.dispose()


class IndexerProcess:
    """The writer's interface (`wake`, `wait_for`, `alive`…) over a child process."""

    def __init__(
        self,
        *,
        db: Database,
        index_dir: Path,
        lock_path: Path,
        batch_size: int,
    ) -> None:
        self._db = db
        self._leading = _CONTEXT.Value("b", 0, lock=False)
        self._failing = _CONTEXT.Value("b", 0, lock=False)
        self._merging = _CONTEXT.Value("b", 0, lock=False)
        self._args = (
            db.url,
            str(index_dir),
            str(lock_path),
            batch_size,
            self._leading,
            self._failing,
            self._merging,
            os.getpid(),
        )
        self._process = self._spawn()
        self._finalizer: Any = None
        self._stopping = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, name="newsdesk-indexer-supervisor", daemon=True
        )

    def _spawn(self) -> Any:
        # Not a daemon, which could not start the segment builder's process: `stop()` ends it,
        # at exit too, and it ends by itself when the server dies.
        return _CONTEXT.Process(target=_main, name="newsdesk-indexer", args=self._args)

    def _supervise(self) -> None:
        # A child that died (killed, out of memory) is replaced: the lock file makes a new one
        # safe, and without it nothing would index again until the server restarted.
        while not self._stopping.wait(1.0):
            if not self._process.is_alive():
                log.warning(
                    "indexer process %s ended (%s); starting another",
                    self._process.pid,
                    self._process.exitcode,
                )
                self._leading.value = 0
                self._process = self._spawn()
                self._process.start()

    def start(self) -> None:
        """Start the child process and the thread that replaces it if it dies."""
        # Before multiprocessing waits for its non-daemon children at exit (in a uvicorn worker,
        # itself a multiprocessing child, that comes before any atexit hook).
        self._finalizer = multiprocessing.util.Finalize(self, self.stop, exitpriority=10)
        self._process.start()
        self._supervisor.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the child (SIGTERM) to finish its batch and exit; kill it if it does not."""
        if self._finalizer is not None:
            self._finalizer.cancel()  # stopped once: nothing left to do at exit
        self._stopping.set()
        self._supervisor.join(5)
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)

    @property
    def alive(self) -> bool:
        """Whether the child runs."""
        return bool(self._process.is_alive())

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        pid: int | None = self._process.pid
        return pid

    @property
    def leading(self) -> bool:
        """Whether the child holds the writer lock."""
        return bool(self._leading.value)

    @property
    def merging(self) -> bool:
        """Whether the child is merging segments (it does when idle)."""
        return bool(self._merging.value)

    @property
    def last_error(self) -> str | None:
        """Whether the child's last batch failed."""
        return "indexing failed" if self._failing.value else None

    def wake(self) -> None:
        """Nothing to do: the child looks at the outbox every 50 ms."""

    def wait_for(self, outbox_ids: list[int], timeout: float) -> bool:
        """Block until these outbox rows are indexed (True) or the timeout passes (False)."""
        return wait_until_indexed(self._db, outbox_ids, timeout)
