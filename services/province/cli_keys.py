"""`tongxin province revoke-key`: the province's own revocation of a county's node key.

The province keeps its own keys (docs/province.md §3), so a key a county revokes is revoked here
by the province's operator too, with the county's own code (`services.county.revocation`): from
that seq nothing the key signs is counted, what the province archived of the node from there
leaves its chain and the county's projections at the province are rebuilt. The node's new key is
then enrolled with `tongxin province enrol-node COUNTY NODE KEY --from-seq N`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from services.county.revocation import revoke
from services.province.cli_options import Template
from services.province.store import DEFAULT_DB_TEMPLATE, ProvinceStore
from shared.errors import FieldError


def register(app: typer.Typer) -> None:
    @app.command(
        "revoke-key",
        epilog="Example: tongxin province revoke-key anhua dongguan --from-seq 4213 "
        "--reason 'laptop stolen (county notice 2026-11)' --yes",
    )
    def revoke_key(
        county_id: Annotated[str, typer.Argument(help="The node's county.")],
        node_id: Annotated[str, typer.Argument(help="The node whose keys are revoked.")],
        from_seq: Annotated[
            int, typer.Option("--from-seq", min=1, help="The first seq the leaked key may have signed.")
        ],
        reason: Annotated[str, typer.Option("--reason", help="Why (kept with the revocation).")],
        db_template: Template = DEFAULT_DB_TEMPLATE,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking.")] = False,
    ) -> None:
        """Revoke every key of a county's node at the province from a seq on."""
        if not yes and not typer.confirm(f"revoke {county_id}/{node_id} from seq {from_seq}?"):
            raise typer.Exit(1)
        try:
            store = ProvinceStore(db_template, [county_id])
        except FieldError as exc:
            typer.echo(f"error: {exc.field}: {exc}", err=True)
            raise typer.Exit(2) from None
        try:
            with store.engines[county_id].begin() as conn:
                done = revoke(conn, county_id, node_id, from_seq, reason)
        except FieldError as exc:
            typer.echo(f"error: {exc.field}: {exc}", err=True)
            raise typer.Exit(2) from None
        finally:
            store.close()
        typer.echo(
            f"revoked {county_id}/{node_id} from seq {from_seq} (revocation {done.id}): "
            f"{done.envelopes} envelope(s) kept aside; next: tongxin province enrol-node {county_id} "
            f"{node_id} NEW_PUBLIC_KEY --from-seq {from_seq}"
        )
