"""Newsdesk: a self-hosted search API for news archives."""

__version__ = "0.1.0"
