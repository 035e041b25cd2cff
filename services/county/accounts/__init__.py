"""Who may use the county service: accounts with a role (and a township for a township officer),
their sessions and bearer tokens. The HTTP side (`api/auth.py`) asks `Accounts` who a request is."""
