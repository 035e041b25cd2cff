"""The county's business projections, one module per thing held, listed in `registry`.

`roster` (members and their timeline), `dual_management` (co-managers), `conflicts`, `orgs`,
`recruitment` (dual review), `attendance`, `figures` (one row per figure event); `projection`
says what a projection is, `live` writes a batch, `rebuild` rebuilds, `digest` hashes them all.
"""
