"""`tongxin audit …`: the auditor's commands (integrity, export and time, registered by their modules)."""

from __future__ import annotations

import typer

from services.county.audit import commands_export, commands_integrity, commands_time
from shared.cli_version import add_version_option

app = typer.Typer(
    help="Audit: prove nothing was added, altered, dropped or reordered; reproduce any figure.",
    no_args_is_help=True,
)
add_version_option(app)
commands_integrity.register(app)
commands_export.register(app)
commands_time.register(app)
