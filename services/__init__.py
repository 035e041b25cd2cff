"""Tongxin's two services: the branch node and the county; they meet only through `shared/` and NATS."""
