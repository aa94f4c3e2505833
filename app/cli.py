"""The `newsdesk` command: serve and ingest."""

from __future__ import annotations

import ipaddress
import logging
import sys
import time
from collections import Counter
from pathlib import Path

import click

from app.config import Settings

log = logging.getLogger("newsdesk")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.group()
def main() -> None:
    """Newsdesk: a search API for news archives."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option(
    "--sample", is_flag=True, help="Load the bundled sample corpus if the store is empty."
)
def serve(host: str, port: int, workers: int, sample: bool) -> None:
    """Serve the API (migrations run first)."""
    import uvicorn

    settings = Settings()
    if not settings.api_keys:
        if not _is_loopback(host):
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
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, server_header=False)


def _load_sample(settings: Settings) -> None:
    from app.services.articles import ArticleService
    from app.store import articles as store
    from app.store.db import Database

    db = Database(settings.resolved_database_url)
    db.migrate()
    with db.reading() as session:
        empty = store.count_articles(session=session) == 0
    if empty:
        paths = find_sample(settings)
        counts = _ingest(ArticleService(db=db, writer=None, refresh_timeout=0), paths, {})
        log.info("sample loaded: %s; indexing continues in the background", dict(counts))
    db.dispose()


def find_sample(settings: Settings) -> list[Path]:
    """The sample corpus files."""
    from app.ingest.files import find_files

    if not settings.sample_dir.is_dir():
        raise click.ClickException(f"no sample corpus at {settings.sample_dir}")
    return find_files([settings.sample_dir])


def _ingest(service: object, paths: list[Path], raw_options: dict[str, object]) -> Counter[str]:
    from tqdm import tqdm

    from app.ingest.files import read_file
    from app.services.articles import ArticleService

    assert isinstance(service, ArticleService)
    counts: Counter[str] = Counter()
    batch: list[tuple[str, object]] = []
    errors: list[str] = []

    def flush() -> None:
        results = service.upsert_many([item for _, item in batch])  # type: ignore[misc]
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
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--language", help="ISO 639-1 code for raw .txt files (else detected).")
@click.option("--source", help="Source name for raw .txt files.")
def ingest(paths: tuple[Path, ...], language: str | None, source: str | None) -> None:
    """Ingest JSON, JSONL/NDJSON and raw .txt files or folders, then index them."""
    from app.ingest.files import find_files
    from app.services.runtime import Runtime
    from app.store import articles as store

    try:
        files = find_files(list(paths))
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    runtime = Runtime.start(Settings())
    try:
        counts = _ingest(runtime.articles, files, {"language": language, "source": source})
        runtime.writer.wake()
        while True:
            with runtime.db.reading() as session:
                pending = store.count_pending(session=session)
            if pending == 0:
                break
            time.sleep(0.2)
    finally:
        runtime.stop()
    summary = ", ".join(
        f"{counts.get(k, 0)} {k}" for k in ("created", "updated", "unchanged", "errors")
    )
    click.echo(f"{len(files)} files: {summary}")
    if counts.get("errors"):
        sys.exit(1)


if __name__ == "__main__":
    main()
