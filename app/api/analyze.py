"""GET /v1/analyze: what a text becomes in each language's analysis, and the query it makes."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import RuntimeDep, SearchDep
from app.api.schemas import AnalyzeResponse, LanguageAnalysisOut, problem_responses
from app.ingest.article import NO_CONTROL
from app.services.errors import InvalidInput
from app.services.search import MAX_ANALYZED_CHARS

_LANGUAGE = r"^[A-Za-z]{2,3}$"
MAX_LANGUAGES = 20


def _invalid(name: str, message: str) -> InvalidInput:
    return InvalidInput(
        message, errors=[{"loc": ["query", name], "msg": message, "type": "value_error"}]
    )


reads = APIRouter(prefix="/v1", tags=["search"])


@reads.get(
    "/analyze",
    responses=problem_responses(422),
    summary="How a text is analysed per language, and the query it makes",
)
def analyze(
    service: SearchDep,
    runtime: RuntimeDep,
    text: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_ANALYZED_CHARS,
            description="the text to analyse, as a query or as an article's words",
            examples=["la Corée du Nord"],
            json_schema_extra={"pattern": NO_CONTROL},
        ),
    ],
    language: Annotated[
        list[str],
        Query(
            max_length=MAX_LANGUAGES,
            description="ISO 639-1 codes to analyse it in; repeat for several (at most 20). "
            "Without it, one "
            "language per analysis the engine has (each stemmed language, `und` for the "
            "others, `ja`, `ko` and `zh` for CJK text)",
            json_schema_extra={"items": {"type": "string", "pattern": _LANGUAGE}},
        ),
    ] = [],  # noqa: B006  (FastAPI copies defaults)
) -> AnalyzeResponse:
    if not re.fullmatch(NO_CONTROL, text):
        raise _invalid("text", "the text must not hold control characters (tab and newline aside)")
    if len(language) > MAX_LANGUAGES:
        raise _invalid("language", f"at most {MAX_LANGUAGES} languages at once")
    for code in language:
        if not re.fullmatch(_LANGUAGE, code):
            raise _invalid("language", f"not a language code: {code!r} (fr, en, ru, ko…)")
    found = service.analyze(text, [code.lower() for code in language])
    return AnalyzeResponse(
        text=text,
        backend=runtime.settings.search_backend,
        languages=[LanguageAnalysisOut.of(a) for a in found],
    )
