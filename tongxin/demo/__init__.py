"""`tongxin demo`: the county of the report on one machine — NATS, the county service, its
branch nodes as supervised child processes, and a deterministic simulator that records the
county's history through the nodes' HTTP APIs."""
