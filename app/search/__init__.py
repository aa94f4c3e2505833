"""The Whoosh index: schema, analysers, the single writer, searchers and query parsing."""
