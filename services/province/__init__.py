"""The province above its counties: a stream sourcing theirs, its own checks, read-only figures."""
