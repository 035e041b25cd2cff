"""Audit commands (integrity): registered on the `tongxin audit` app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
