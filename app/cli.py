"""The `newsdesk` command: serve, ingest, reindex, check, backup."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from app import __version__
from app.addresses import is_loopback
from app.config import Settings
from app.logs import LOG_FORMAT, uvicorn_log_config

if TYPE_CHECKING:  # imported lazily at run time: `newsdesk --help` stays fast
    from app.ingest.payloads import Item
    from app.services.articles import ArticleService
    from app.services.runtime import Runtime

log = logging.getLogger("newsdesk")


def _settings() -> Settings:
    """The settings from the environment, or a one-line error naming what is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"NEWSDESK_{'_'.join(map(str, e['loc'])).upper() or 'SETTINGS'}: {e['msg']}"
            for e in exc.errors()
        )
        raise click.ClickException(f"invalid configuration: {problems}") from None


def _use_data_dir(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:  # the environment carries it to `serve`'s worker processes too
        os.environ["NEWSDESK_DATA_DIR"] = str(value)


def data_dir_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--data-dir PATH` on a command: NEWSDESK_DATA_DIR for this run."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        is_eager=True,
        callback=_use_data_dir,
        help="Where the store and the index live (NEWSDESK_DATA_DIR; default ./data).",
    )(command)


@click.group()
@click.version_option(__version__, prog_name="newsdesk")
def main() -> None:
    """Newsdesk: a search API for news archives."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # why: app/logs.py


@main.command()
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option(
    "--sample", is_flag=True, help="Load the bundled sample corpus if the store is empty."
)
def serve(host: str, port: int, workers: int, sample: bool) -> None:
    """Serve the API (migrations run first)."""
    import uvicorn

    settings = _settings()
    if not settings.api_keys:
        if not is_loopback(host):
            raise click.ClickException(
                f"refusing to serve on {host} with open writes. Set NEWSDESK_API_KEYS=key1,key2 "
                "to require `Authorization: Bearer KEY` for writes, or bind to 127.0.0.1."
            )
        log.warning(
            "NO API KEYS: writes are OPEN to anyone who can reach %s:%d (loopback only). "
            "Set NEWSDESK_API_KEYS to require a key.",
            host,
            port,
        )
    if sample:
        _load_sample(settings)
    log.info("%s", start_line(settings, host=host, port=port, workers=workers))
    metrics_dir = _share_metrics()
    try:
        uvicorn.run(
            "app.main:app",
            host=host,
            port=port,
            workers=workers,
            server_header=False,
            log_config=uvicorn_log_config(),  # worker processes configure logging from it
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


# prometheus-client's own variable, read when it is first imported: not imported here for it
_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def _share_metrics() -> Path | None:
    """Point the server's processes (workers, indexer) at one fresh directory for their
    Prometheus counts, before any imports prometheus_client (app/metrics.py); returns it to
    remove at exit, or None when the operator named one."""
    if os.environ.get(_METRICS_DIR):
        return None
    made = Path(tempfile.mkdtemp(prefix="newsdesk-metrics-"))
    os.environ[_METRICS_DIR] = str(made)
    return made


def start_line(settings: Settings, *, host: str, port: int, workers: int) -> str:
    """What a start says: the version, the address, where the data is, which backends."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        store_text = f"SQLite {url.database}"
    else:
        store_text = f"PostgreSQL {url.render_as_string(hide_password=True)}"
    if settings.search_backend == "whoosh":
        search_text = f"Whoosh {settings.index_dir.resolve()}"
    else:
        search_text = "PostgreSQL full-text search"
    address = f"[{host}]" if ":" in host else host
    return (
        f"Newsdesk {__version__} serving http://{address}:{port} "
        f"({workers} worker{'s' if workers != 1 else ''}; docs at /docs) · "
        f"data {settings.data_dir.resolve()} · store {store_text} · search {search_text}"
    )


def _load_sample(settings: Settings) -> None:
    from app.services.articles import ArticleService
    from app.store import articles as store
    from app.store.db import Database

    db = Database(settings.resolved_database_url)
    db.migrate(wait=settings.database_wait_seconds)
    with db.reading() as session:
        empty = store.count_articles(session=session) == 0
    if empty:
        paths = find_sample(settings)
        service = ArticleService(
            db=db, writer=None, refresh_timeout=0, outbox=settings.search_backend == "whoosh"
        )
        counts = _ingest(service, paths, {})
        log.info("sample loaded: %s", ", ".join(f"{n} {what}" for what, n in counts.items()))
    db.dispose()


def find_sample(settings: Settings) -> list[Path]:
    """The sample corpus files."""
    from app.ingest.files import find_files

    if not settings.sample_dir.is_dir():
        raise click.ClickException(f"no sample corpus at {settings.sample_dir}")
    return find_files([settings.sample_dir])


def _ingest(
    service: ArticleService, paths: list[Path], raw_options: dict[str, object]
) -> Counter[str]:
    from tqdm import tqdm

    from app.ingest.files import read_file

    counts: Counter[str] = Counter()
    batch: list[tuple[str, Item]] = []
    errors: list[str] = []

    def flush() -> None:
        results = service.upsert_many([item for _, item in batch])
        for (where, _), result in zip(batch, results, strict=True):
            if result.result is not None:
                counts[result.result.status] += 1
            else:
                counts["errors"] += 1
                if len(errors) < 20:
                    errors.append(f"{where}: {str(result.error).splitlines()[0]}")
        batch.clear()

    with tqdm(desc="ingest", unit=" articles", disable=None, file=sys.stderr) as bar:
        for path in paths:
            for where, item in read_file(path, **raw_options):
                batch.append((where, item))
                bar.update(1)
                if len(batch) >= 500:
                    flush()
        if batch:
            flush()
    for line in errors:
        click.echo(f"error: {line}", err=True)
    return counts


@main.command()
@data_dir_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--language", help="ISO 639-1 code for raw .txt files (else detected).")
@click.option("--source", help="Source name for raw .txt files.")
def ingest(paths: tuple[Path, ...], language: str | None, source: str | None) -> None:
    """Ingest JSON, JSONL/NDJSON and raw .txt files or folders, then index them."""
    from app.ingest.files import find_files
    from app.services.runtime import Runtime

    try:
        files = find_files(list(paths))
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    runtime = Runtime.start(_settings())
    try:
        counts = _ingest(runtime.articles, files, {"language": language, "source": source})
        _wait_drained(runtime)
    finally:
        runtime.stop()
    summary = ", ".join(
        f"{counts.get(k, 0)} {k}" for k in ("created", "updated", "unchanged", "errors")
    )
    click.echo(f"{len(files)} files: {summary}")
    if counts.get("errors"):
        sys.exit(1)


def _wait_drained(runtime: Runtime) -> None:
    from app.store import articles as store

    if runtime.writer is None:  # PostgreSQL search indexes each article as it is stored
        return
    runtime.writer.wake()
    while True:
        with runtime.db.reading() as session:
            if store.count_pending(session=session) == 0:
                return
        time.sleep(0.2)


def _refuse_on_postgres_search(settings: Settings, command: str) -> None:
    """`reindex` and `check` act on the Whoosh index, which PostgreSQL search does not have."""
    if settings.search_backend == "postgres":
        raise click.ClickException(
            f"`newsdesk {command}` acts on the Whoosh index; with NEWSDESK_SEARCH_BACKEND=postgres "
            "PostgreSQL updates each article's search vector in the transaction that stores it, "
            "so there is nothing to rebuild or compare (REINDEX INDEX ix_article_search rebuilds "
            "the GIN index itself)"
        )


@main.command()
@data_dir_option
def reindex() -> None:
    """Rebuild the index from the store beside the live one, then swap it in atomically."""
    from tqdm import tqdm

    from app.search.index import IndexStore
    from app.services.maintenance import RebuildRunning, rebuild
    from app.store import articles as store
    from app.store.db import Database

    settings = _settings()
    _refuse_on_postgres_search(settings, "reindex")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url)
    db.migrate(wait=settings.database_wait_seconds)
    indexes = IndexStore(settings.index_dir)
    with db.reading() as session:
        total = store.count_articles(session=session)
    try:
        with tqdm(
            total=total, desc="reindex", unit=" articles", disable=None, file=sys.stderr
        ) as bar:
            name, size = rebuild(db=db, indexes=indexes, progress=bar.update)
    except RebuildRunning as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        indexes.close()
        db.dispose()
    click.echo(f"index {name} published: {size} articles")


@main.command()
@data_dir_option
@click.option("--repair", is_flag=True, help="Queue every drifted article for the indexer.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(repair: bool, as_json: bool) -> None:
    """Compare the store's and the index's ids; exit 1 if they differ (unless repaired)."""
    import orjson

    from app.services.maintenance import check as compare
    from app.services.maintenance import repair as fix
    from app.services.runtime import Runtime

    settings = _settings()
    _refuse_on_postgres_search(settings, "check")
    runtime = Runtime.start(settings)
    assert runtime.indexes is not None
    try:
        drift = compare(db=runtime.db, indexes=runtime.indexes)
        if repair and not drift.clean:
            queued = fix(db=runtime.db, drift=drift)
            _wait_drained(runtime)
            log.info("repair queued %d articles; the index is drained", queued)
            drift = compare(db=runtime.db, indexes=runtime.indexes)
    finally:
        runtime.stop()
    report = {
        "clean": drift.clean,
        "articles": drift.articles,
        "documents": drift.documents,
        "pending": drift.pending,
        "missing": drift.missing,
        "orphans": drift.orphans,
        "duplicated": drift.duplicated,
    }
    if as_json:
        click.echo(orjson.dumps(report).decode())
    else:
        click.echo(
            f"store {drift.articles} articles, index {drift.documents} documents, "
            f"{drift.pending} pending; missing {len(drift.missing)}, orphans "
            f"{len(drift.orphans)}, duplicated {len(drift.duplicated)}"
            + (" — clean" if drift.clean else " — DRIFT (run `newsdesk check --repair`)")
        )
    if not drift.clean:
        sys.exit(1)


@main.command()
@data_dir_option
@click.argument("path", type=click.Path(path_type=Path))
def backup(path: Path) -> None:
    """Write a consistent snapshot of the store to PATH while the server keeps writing."""
    from app.store.backup import backup as snapshot

    settings = _settings()
    try:
        size = snapshot(settings.resolved_database_url, path)
    except (ValueError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    except (OSError, sqlite3.Error) as exc:  # a folder that is missing or not writable
        raise click.ClickException(f"cannot write the snapshot to {path}: {exc}") from None
    click.echo(
        f"snapshot written to {path} ({size} bytes). To restore: copy it to "
        "NEWSDESK_DATA_DIR/newsdesk.db of an empty data directory and start the server; "
        "the index is rebuilt from it."
    )


if __name__ == "__main__":
    main()
