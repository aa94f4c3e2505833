"""Raw text parsing: header, BOM, CRLF, leading blanks, NBSP, missing header."""

from __future__ import annotations

import pytest

from app.ingest.raw import decode_raw, parse_raw
from tests.conftest import KBS_RAW


def test_the_sample_header() -> None:
    raw = parse_raw(KBS_RAW.read_text(encoding="utf-8"))
    assert raw.published_at == "2023-09"
    assert raw.photo_credit == "YONHAP News"
    assert raw.body.startswith("Le dirigeant nord-coréen")


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffdate 2023-09 Photo : YONHAP\nCorps.",
        "date 2023-09 Photo : YONHAP\r\nCorps.\r\n",
        "\n\n  \ndate 2023-09 Photo : YONHAP\n\nCorps.",
        "\u00a0date\u00a02023-09\u00a0Photo\u00a0:\u00a0YONHAP\nCorps.",
        "DATE 2023-09 photo: YONHAP\nCorps.",
    ],
    ids=["bom", "crlf", "leading-blanks", "nbsp", "case"],
)
def test_tolerated_header_variants(text: str) -> None:
    raw = parse_raw(decode_raw(text.encode("utf-8")))
    assert (raw.published_at, raw.photo_credit, raw.body) == ("2023-09", "YONHAP", "Corps.")


def test_day_precision_header_without_photo() -> None:
    raw = parse_raw("date 2023-09-07\nCorps.")
    assert (raw.published_at, raw.photo_credit, raw.body) == ("2023-09-07", None, "Corps.")


def test_missing_header_keeps_everything_as_body() -> None:
    raw = parse_raw("Le texte commence tout de suite.\nSuite.")
    assert raw.published_at is None
    assert raw.body == "Le texte commence tout de suite.\nSuite."


def test_invalid_utf8_is_refused_with_the_position() -> None:
    with pytest.raises(ValueError, match="byte 2"):
        decode_raw(b"ab\xffcd")
