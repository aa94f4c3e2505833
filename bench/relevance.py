"""Known-item relevance on the bundled sample: does a search find the article it was made from?

    .venv/bin/python -m bench.relevance [--postgres ADMIN_URL] [--backends whoosh postgres]

`--postgres` names a database whose user may create databases (a throwaway cluster from
`eval "$(bash scripts/postgres.sh start)"` does: use $NEWSDESK_TEST_POSTGRES); the "postgres"
backend then runs on a new database there, dropped afterwards. Without it only "whoosh" runs.

For each backend an app is built in-process (TestClient on `create_app`, the index writer as a
thread, no rate limit, temporary data directory): "whoosh" is the default, SQLite and Whoosh;
"postgres" puts the store and the search on PostgreSQL. The JSONL files of the bundled sample
(`data/sample/*.jsonl`) are loaded through `POST /v1/articles/bulk?refresh=wait`, 1,000 a
request, and the raw KBS dispatch (`data/sample/raw/*.txt`, no title) through
`POST /v1/articles/raw`; then `/health` is polled until no article waits for the index.

Known-item queries: each JSONL article whose title no other loaded article shares gives four
queries, each asked as `GET /v1/search?q=…&page_size=10`, and the rank (1-based) of the article
among the hits is kept:

  title           the title as written
  title_lower     the title lowercased
  title_noaccent  the title lowercased, typed without accents: combining marks dropped from
                  Latin letters, Russian ё written е (Japanese dakuten and Cyrillic й are
                  parts of letters, not accents, and stay)
  first_sentence  the body up to its first '. ', '。', '? ', '! ' or newline, cut at a word
                  boundary to at most 200 characters and 25 space-separated words, then words
                  dropped from the end while the API would count more than 32 terms

The queries are natural text, but the API's syntax gives some characters a meaning. Before
sending, `"`, the guillemets and curly quotes the API reads as `"` (« » “ ” „ ‟), `*`, `~`, `:`,
`^`, `(`, `)` and a `-` that starts a word are replaced by spaces, and the operators OR, AND,
NOT, ANDNOT and ANDMAYBE are lowercased, so that a title is searched as plain words. A query
the API answers with 400 counts as a miss, and is also counted as "refused".

The report, as Markdown tables: per backend, language (fr, ru, ko, ja, all) and query kind, the
number of queries, recall@1, recall@5, MRR@10 and refused queries. Then natural queries, as a
user would type them, each with what it should find (any hit, or the KBS dispatch on the first
page): total, the rank of the expected article and `did_you_mean`, per backend. Figures only,
no assertions.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import make_url

import app
from app.config import PROJECT_ROOT, SAMPLE_DIR, Settings
from app.ingest.article import ArticleCreate
from app.main import create_app

LANGUAGES = ("fr", "ru", "ko", "ja")
KINDS = ("title", "title_lower", "title_noaccent", "first_sentence")
PAGE_SIZE = 10
BULK_SIZE = 1000
MAX_CHARS, MAX_WORDS, MAX_TERMS = 200, 25, 32

# What the API's query syntax reads specially (app/search/query.py), neutralised to a space.
_SPECIAL = re.compile(r"[\"«»“”„‟*~:^()]|(?<!\w)-")
_OPERATOR = re.compile(r"\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b")
_TERM = re.compile(r"[^\W_]+")  # what the API counts as a term
_SENTENCE_END = re.compile(r"\. |。|\? |! |\n")

KBS = "the KBS dispatch"
ANY_HIT = "hits > 0"


@dataclass(frozen=True)
class Natural:
    """A query as a user types it, and what it should find."""

    q: str
    expect: str = ANY_HIT  # ANY_HIT, or KBS: the raw dispatch on the first page


NATURAL = [
    Natural("la Corée du Nord"),
    Natural("le train blindé", KBS),
    Natural("Kim se rendra en Russie", KBS),
    Natural("Kim Jong Un"),
    Natural("Kim Jong-un"),
    Natural("kim jong un"),
    Natural("в Москве"),
    Natural("Голунов и полиция"),
    Natural("golunov"),
    Natural("Голунов"),
    Natural("shoigu"),
    Natural("« la Corée du Nord »"),
    Natural("sud-coréen"),
    Natural("sud coréen"),
    Natural("la"),
    Natural("coree"),
    Natural("choigu", KBS),
    Natural("vladivostock", KBS),
    Natural("seoul retraites"),
]


@dataclass(frozen=True)
class KnownItem:
    id: int
    language: str
    title: str
    body: str


@dataclass
class Score:
    """Known-item outcomes of one group of queries."""

    ranks: list[int | None] = field(default_factory=list)
    refused: int = 0

    def recall(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / max(1, len(self.ranks))

    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r is not None) / max(1, len(self.ranks))


@dataclass
class Outcome:
    """What one backend gave."""

    backend: str
    scores: dict[tuple[str, str], Score] = field(default_factory=lambda: defaultdict(Score))
    natural: dict[str, tuple[int, str | None, int | None, str | None]] = field(
        default_factory=dict
    )  # q -> (status, total or error, rank of the expected article, did_you_mean)
    articles: int = 0
    known: int = 0
    skipped: int = 0
    errors: int = 0
    timed_out: int = 0
    load_s: float = 0.0
    query_s: float = 0.0


# --- queries ------------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """The text as plain words for the API's syntax, white space collapsed."""
    text = _SPECIAL.sub(" ", text)
    text = _OPERATOR.sub(lambda m: m.group(0).lower(), text)
    return " ".join(text.split())


def strip_accents(text: str) -> str:
    """The text as typed without accents: combining marks dropped from Latin letters, and the
    Russian `ё` written `е`. Marks that are part of other scripts' letters stay (Japanese
    dakuten: が is not か with an accent; Cyrillic й is a letter of its own)."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if (
            unicodedata.combining(ch)
            and out
            and "a" <= unicodedata.normalize("NFD", out[-1])[0].lower() <= "z"
        ):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out)).replace("ё", "е").replace("Ё", "Е")


def first_sentence(body: str) -> str:
    """The body's first sentence, at most MAX_CHARS characters (cut at a word boundary when
    there is one), MAX_WORDS words and MAX_TERMS terms as the API counts them."""
    text = body.strip()
    end = _SENTENCE_END.search(text)
    if end:
        text = text[: end.start()]
    if len(text) > MAX_CHARS:
        cut = text[: MAX_CHARS + 1]
        space = cut.rfind(" ")
        text = cut[:space] if space > 0 else text[:MAX_CHARS]
    words = text.split()[:MAX_WORDS]
    while len(words) > 1 and len(_TERM.findall(" ".join(words))) > MAX_TERMS:
        words.pop()
    return " ".join(words)


def queries_of(item: KnownItem) -> list[tuple[str, str]]:
    """(kind, q) for one known article; kinds whose query would be empty are left out."""
    lower = item.title.lower()
    texts = {
        "title": item.title,
        "title_lower": lower,
        "title_noaccent": strip_accents(lower),
        "first_sentence": first_sentence(item.body),
    }
    return [(kind, neutralise(text)) for kind, text in texts.items()]


# --- the sample ---------------------------------------------------------------------------


def read_sample() -> tuple[list[dict[str, Any]], list[bytes]]:
    """The JSONL articles (only the fields the API accepts) and the raw texts."""
    accepted = set(ArticleCreate.model_fields)
    articles = []
    for path in sorted(SAMPLE_DIR.glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            if line.strip():
                record = orjson.loads(line)
                articles.append({k: v for k, v in record.items() if k in accepted})
    raws = [path.read_bytes() for path in sorted((SAMPLE_DIR / "raw").glob("*.txt"))]
    return articles, raws


def load(
    client: TestClient, articles: list[dict[str, Any]], raws: list[bytes]
) -> tuple[list[int | None], list[int]]:
    """Load the articles and raw texts; the id of each article (None if refused) and of each
    raw text. Returns once the index has nothing pending."""
    ids: list[int | None] = []
    for start in range(0, len(articles), BULK_SIZE):
        response = client.post(
            "/v1/articles/bulk",
            params={"refresh": "wait"},
            json=articles[start : start + BULK_SIZE],
        )
        response.raise_for_status()
        ids.extend(item["id"] for item in response.json()["results"])
    raw_ids = []
    for data in raws:
        response = client.post(
            "/v1/articles/raw",
            params={"refresh": "wait", "source": "KBS World"},
            content=data,
            headers={"Content-Type": "text/plain"},
        )
        response.raise_for_status()
        raw_ids.append(response.json()["id"])
    deadline = time.monotonic() + 600
    while client.get("/health").json()["index"]["pending"] and time.monotonic() < deadline:
        time.sleep(0.2)
    return ids, raw_ids


def known_items(articles: list[dict[str, Any]], ids: list[int | None]) -> list[KnownItem]:
    """The loaded articles whose title no other loaded article has (the last version sent of
    an article is the stored one)."""
    stored: dict[int, dict[str, Any]] = {}
    for article, id_ in zip(articles, ids, strict=True):
        if id_ is not None:
            stored[id_] = article
    holders: dict[str, set[int]] = defaultdict(set)
    for id_, article in stored.items():
        if article.get("title"):
            holders[article["title"].strip()].add(id_)
    return [
        KnownItem(id_, article.get("language") or "?", article["title"], article["body"])
        for id_, article in stored.items()
        if article.get("title") and len(holders[article["title"].strip()]) == 1
    ]


# --- backends -----------------------------------------------------------------------------


@contextmanager
def backend_client(backend: str, admin: str | None) -> Iterator[TestClient]:
    """A fresh app of one backend in a temporary data directory (and, for "postgres", a new
    database in the cluster of `admin`, dropped afterwards)."""
    name = f"newsdesk_relevance_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(admin).set(drivername="postgresql") if admin else None
    with tempfile.TemporaryDirectory(prefix="newsdesk-relevance-") as tmp:
        settings: dict[str, Any] = {
            "data_dir": Path(tmp) / "data",
            "indexer": "thread",
            "rate_limit": "",
            "api_keys": [],
            "read_keys": [],
        }
        if backend == "postgres":
            assert admin_url is not None
            with psycopg.connect(
                admin_url.render_as_string(hide_password=False), autocommit=True
            ) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
            database = admin_url.set(drivername="postgresql+psycopg", database=name)
            settings["database_url"] = database.render_as_string(hide_password=False)
            settings["search_backend"] = "postgres"
        try:
            with TestClient(
                create_app(Settings(**settings)), raise_server_exceptions=False
            ) as client:
                yield client
        finally:
            if backend == "postgres" and admin_url is not None:
                with psycopg.connect(
                    admin_url.render_as_string(hide_password=False), autocommit=True
                ) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def search(client: TestClient, q: str) -> tuple[int, dict[str, Any]]:
    response = client.get("/v1/search", params={"q": q, "page_size": PAGE_SIZE})
    body: dict[str, Any] = response.json() if response.status_code == 200 else {}
    return response.status_code, body


def rank_of(body: dict[str, Any], article_id: int) -> int | None:
    hit_ids = [hit["id"] for hit in body.get("hits", [])]
    return hit_ids.index(article_id) + 1 if article_id in hit_ids else None


def run_backend(backend: str, admin: str | None) -> Outcome:
    outcome = Outcome(backend)
    articles, raws = read_sample()
    with backend_client(backend, admin) as client:
        started = time.perf_counter()
        ids, raw_ids = load(client, articles, raws)
        outcome.load_s = time.perf_counter() - started
        outcome.articles = client.get("/health").json()["store"]["articles"]
        items = known_items(articles, ids)
        outcome.known = len(items)
        started = time.perf_counter()
        for n, item in enumerate(items, 1):
            for kind, q in queries_of(item):
                if not q:
                    outcome.skipped += 1
                    continue
                status, body = search(client, q)
                rank = rank_of(body, item.id) if status == 200 else None
                outcome.timed_out += bool(body.get("timed_out"))
                for language in (item.language, "all"):
                    score = outcome.scores[(language, kind)]
                    score.ranks.append(rank)
                    score.refused += status == 400
                if status not in (200, 400):
                    outcome.errors += 1
            if n % 250 == 0:
                print(f"  {backend}: {n:,} of {len(items):,} articles", file=sys.stderr)
        outcome.query_s = time.perf_counter() - started
        kbs = raw_ids[0] if raw_ids else None
        for natural in NATURAL:
            status, body = search(client, natural.q)
            if status != 200:
                outcome.natural[natural.q] = (status, None, None, None)
                continue
            rank = rank_of(body, kbs) if natural.expect == KBS and kbs is not None else None
            outcome.natural[natural.q] = (status, str(body["total"]), rank, body["did_you_mean"])
    return outcome


# --- report -------------------------------------------------------------------------------


def report(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        print(
            f"\n### {outcome.backend}: {outcome.known:,} known items among "
            f"{outcome.articles:,} articles\n"
        )
        print(
            f"loaded in {outcome.load_s:.0f} s; queries ran in {outcome.query_s:.0f} s; "
            f"{outcome.skipped} empty queries skipped, {outcome.errors} answered neither 200 nor "
            f"400, {outcome.timed_out} timed out (partial results)\n"
        )
        print("| language | query | queries | recall@1 | recall@5 | MRR@10 | refused |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for language in (*LANGUAGES, "all"):
            for kind in KINDS:
                score = outcome.scores.get((language, kind))
                if score is None:
                    continue
                print(
                    f"| {language} | {kind} | {len(score.ranks):,} | {score.recall(1):.3f} | "
                    f"{score.recall(5):.3f} | {score.mrr():.3f} | {score.refused:,} |"
                )
    if len(outcomes) > 1:
        print("\n### all languages, side by side (recall@1 / recall@5 / MRR@10, refused)\n")
        print("| query | " + " | ".join(o.backend for o in outcomes) + " |")
        print("| --- |" + " --- |" * len(outcomes))
        for kind in KINDS:
            cells = []
            for outcome in outcomes:
                s = outcome.scores[("all", kind)]
                cells.append(
                    f"{s.recall(1):.3f} / {s.recall(5):.3f} / {s.mrr():.3f}, {s.refused:,}"
                )
            print(f"| {kind} | " + " | ".join(cells) + " |")
    print("\n### natural queries\n")
    header = ["q", "expected"]
    for outcome in outcomes:
        header += [f"{outcome.backend} total", f"{outcome.backend} did_you_mean"]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for natural in NATURAL:
        cells = [f"`{natural.q}`", natural.expect]
        for outcome in outcomes:
            status, total, rank, suggestion = outcome.natural[natural.q]
            if total is None:
                cells += [f"{status}", "—"]
                continue
            if natural.expect == KBS:
                total += f" (rank {rank})" if rank else " (not on page 1)"
            cells += [total, f"`{suggestion}`" if suggestion else "—"]
        print("| " + " | ".join(cells) + " |")
    sys.stdout.flush()


def code_version() -> str:
    """The app's path and the commit of its checkout (dirty if changed)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--", "app", "migrations"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", ""
    return f"{Path(app.__file__).parent} at {commit}{' (changed)' if dirty else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="a URL that may create databases")
    parser.add_argument("--backends", nargs="+", choices=("whoosh", "postgres"))
    options = parser.parse_args()
    backends = options.backends or (["whoosh", "postgres"] if options.postgres else ["whoosh"])
    if "postgres" in backends and not options.postgres:
        parser.error("the postgres backend needs --postgres ADMIN_URL")
    print(
        f"sample: {SAMPLE_DIR}; code: {code_version()}; {os.cpu_count()} CPUs, "
        f"{platform.python_version()}, {platform.platform()}"
    )
    outcomes = []
    for backend in backends:
        started = time.perf_counter()
        outcomes.append(run_backend(backend, options.postgres))
        print(f"  {backend}: {time.perf_counter() - started:.0f} s", flush=True)
    report(outcomes)


if __name__ == "__main__":
    main()
