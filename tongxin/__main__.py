"""`python -m tongxin …`, the same as the `tongxin` console script."""

from tongxin.cli import main

main()
