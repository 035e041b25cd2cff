"""The `tongxin` entry point, the embedded NATS launcher and (later) the demo supervisor."""
