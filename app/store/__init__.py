"""The relational store: SQLModel tables, sessions, migrations and queries. The source of truth."""
