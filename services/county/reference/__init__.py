"""Reference data the county holds and hands to its nodes: its organisation tree as the county
office loads it (`tongxin county load-orgs`), and what each node may read of it over NATS."""
