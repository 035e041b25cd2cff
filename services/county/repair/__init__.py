"""Repair at the county (DESIGN §3.2): announce the real heads, ask nodes to re-send gaps, hand a
restored node its own archived envelopes back."""
