"""The county service: verified exactly-once ingest into an archive, projections, query API."""
