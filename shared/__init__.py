"""Tongxin's shared kernel: the event catalog, the envelope and its codecs, met by both services."""
