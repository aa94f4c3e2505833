"""Decisions: create, upsert, delete, list, search and hydrate. Routes call these."""
