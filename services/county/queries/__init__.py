"""The county's read side: what HTTP, the CLI and audit ask of the projections, one module per subject.

Each query takes a Connection and plain values and returns JSON-ready data; routes, commands and
app setup hold no SQL of their own. `asof` reads the projections as of a business time; a
`known_at` question is answered by the same queries over a replay (`audit/replay.py`).
"""
