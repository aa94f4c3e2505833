"""Language identification with lingua, offline, for articles sent without a language."""

from __future__ import annotations

import threading
from typing import Any

# Languages the detector chooses among: every language Whoosh can stem, the CJK trio and a few
# frequent news languages. A closed set keeps the models small (about 80 MB resident in
# low-accuracy mode against 1 GB for all 75 languages in high-accuracy mode) and fast.
DETECTABLE = [
    "ar",
    "da",
    "de",
    "en",
    "es",
    "fi",
    "fr",
    "hu",
    "it",
    "nb",
    "nl",
    "pt",
    "ro",
    "ru",
    "sv",
    "tr",
    "ko",
    "ja",
    "zh",
    "pl",
    "uk",
    "el",
    "cs",
    "he",
    "fa",
    "hi",
    "id",
    "vi",
    "th",
    "bg",
    "hr",
    "sk",
    "sl",
    "ca",
]

_SAMPLE_CHARS = 2000
_lock = threading.Lock()
_detector: Any = None


def _build() -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in DETECTABLE]
    return (
        LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def _get() -> Any:
    global _detector
    with _lock:
        if _detector is None:
            _detector = _build()
        return _detector


def warm_up() -> None:
    """Load the models now rather than on the first article without a language (the server
    does not: an archive whose articles all name their language never holds the 50 MB)."""
    _get()


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None when it cannot tell."""
    sample = text[:_SAMPLE_CHARS]
    if not sample.strip():
        return None
    found = _get().detect_language_of(sample)
    if found is None:
        return None
    code: str = found.iso_code_639_1.name.lower()
    return "no" if code == "nb" else code
