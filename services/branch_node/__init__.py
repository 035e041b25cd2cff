"""The branch node: an outstation's durable local log, and the forwarder that carries it to the county."""
