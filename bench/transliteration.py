"""How many hits the Latin spellings of Cyrillic and Greek words add to ordinary queries.

    .venv/bin/python -m bench.transliteration [PATH ...]

Indexes the corpus (the bundled sample, or the JSON/JSONL files given, such as
../shared/corpus/reuters21578_en.jsonl read in place) twice in-process with Newsdesk's schema:
as Newsdesk does, and with transliteration turned off (no Latin forms indexed or asked for).
Then runs bench.compare's 43 queries on both and prints each query's totals and the hits that
transliteration adds, with the languages they come from. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index

from app.config import SAMPLE_DIR
from app.ingest.dates import parse_partial_date
from app.search import analysis
from app.search.engine import run_search, suffixes_in_use
from app.search.query import QueryCompiler, check_query
from app.search.schema import build_schema, to_document
from app.services.articles import span_filters
from bench.compare import QUERIES, _stored, load_corpus


@contextmanager
def without_transliteration() -> Iterator[None]:
    """Newsdesk's analysis with no Latin forms of Cyrillic and Greek words, and no Latin key of
    Latin words (what the index did before transliteration)."""
    saved = analysis._latin_spellings, analysis.latin_key
    analysis._latin_spellings = lambda folded, lang: ()  # type: ignore[assignment]
    analysis.latin_key = lambda word: word.lower()
    try:
        yield
    finally:
        analysis._latin_spellings, analysis.latin_key = saved


def totals(articles: list[dict[str, Any]], work: Path) -> dict[str, Counter[str]]:
    """Per query, the languages of every match."""
    ix = index.create_in(str(work), build_schema())
    stored = [_stored(i, a) for i, a in enumerate(articles, start=1)]
    language = {a.id: a.language for a in stored}
    writer = ix.writer()
    for article in stored:
        writer.add_document(**to_document(article))
    writer.commit()
    compiler = QueryCompiler(build_schema())
    out: dict[str, Counter[str]] = {}
    with ix.searcher() as searcher:
        suffixes = suffixes_in_use(searcher)
        for query in QUERIES:
            compiled = compiler.compile(
                check_query(query.q, max_chars=500, max_terms=32), suffixes=suffixes
            )
            filters = span_filters(
                start=parse_partial_date(query.date_from) if query.date_from else None,
                end=parse_partial_date(query.date_to) if query.date_to else None,
                languages=(),
                sources=(),
            )
            outcome = run_search(
                searcher,
                compiled,
                filters=filters,
                sort="relevance",
                page=1,
                page_size=len(stored),
                deadline=time.monotonic() + 60,
                facets=False,
            )
            out[f"{query.kind}: {query.q}"] = Counter(language[h.id] for h in outcome.hits)
    ix.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[SAMPLE_DIR])
    options = parser.parse_args()
    articles = load_corpus(options.paths)
    print(f"corpus: {len(articles):,} articles from {', '.join(map(str, options.paths))}")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "with").mkdir()
        (Path(tmp) / "without").mkdir()
        kept = totals(articles, Path(tmp) / "with")
        with without_transliteration():
            plain = totals(articles, Path(tmp) / "without")
    print("\n| query | hits without | hits with | added (by language) |")
    print("| --- | ---: | ---: | --- |")
    added_all = 0
    for name, found in kept.items():
        before = plain[name]
        added = found - before
        added_all += sum(added.values())
        by_language = ", ".join(f"{lang} {n}" for lang, n in added.most_common()) or "—"
        print(f"| `{name}` | {sum(before.values())} | {sum(found.values())} | {by_language} |")
    total_plain = sum(sum(c.values()) for c in plain.values())
    print(
        f"\n{len(kept)} queries: {added_all} hits added to {total_plain} "
        f"({100 * added_all / max(1, total_plain):.2f}%)"
    )


if __name__ == "__main__":
    main()
