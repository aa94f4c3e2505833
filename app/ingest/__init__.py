"""Turning JSON, NDJSON and raw text into one validated article shape."""
