"""Ingest: verify each message, archive it exactly once, project, commit, then acknowledge."""
