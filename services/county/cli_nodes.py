"""`county enrol-node` and `county revoke-node`: which branch nodes may speak, and be heard.

Enrolment records the node's Ed25519 key (what its envelopes are checked against) and, given the
NATS server's access directory, lets its NATS key connect with exactly a node's permissions
(`shared.nats_access`). Revocation takes the NATS access away at once, live connections included,
without restarting the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from services.county.cli_base import fail
from services.county.cli_options import Db, DbFile, NatsAccess
from services.county.db.engine import DEFAULT_DB_URL, make_engine, migrate
from services.county.reenrolment import reenrol
from services.county.registry import enrol
from shared.errors import FieldError
from shared.nats_access import AccessDir

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _access(path: Path | None) -> AccessDir:
    if path is None:
        raise fail("--nats-access: the NATS server's access directory is needed (or TONGXIN_NATS_ACCESS)")
    if not (path / "access.json").exists():
        raise fail(f"--nats-access: {path} is no NATS access directory (start `tongxin nats` once)")
    return AccessDir(path)


def register(app: typer.Typer) -> None:
    @app.command(
        "enrol-node",
        epilog="Example: tongxin county enrol-node dongguan 6d6da27e…57951 --county-id jx "
        "--nats-key UD3K…Q7 --nats-access tongxin-data/nats/access; the county office's node: "
        "tongxin county enrol-node county-office 0a1b…ff --org county --office · after `revoke-key "
        "dongguan --from-seq 4213`: tongxin county enrol-node dongguan 9f2c…e1 --from-seq 4213",
    )
    def enrol_node(
        node_id: Annotated[str, typer.Argument(help="The node's id, as given at `node init`.")],
        public_key: Annotated[
            str, typer.Argument(help="Its Ed25519 public key (64 hex), printed by `node init`.")
        ],
        nats_key: Annotated[
            str | None, typer.Option(help="Its NATS key (U…, printed by `node init`): lets it connect.")
        ] = None,
        county_id: Annotated[
            str | None,
            typer.Option(
                "--county-id", envvar="TONGXIN_COUNTY_ID", help="The county's id (with --nats-key)."
            ),
        ] = None,
        nats_access: NatsAccess = None,
        db: Db = DEFAULT_DB_URL,
        db_file: DbFile = None,
        org: Annotated[
            list[str] | None,
            typer.Option(
                "--org",
                help="An organisation the node speaks for (repeatable; default: the one of its own id). "
                "Fixed at enrolment (docs/authority.md).",
            ),
        ] = None,
        office: Annotated[
            bool | None,
            typer.Option(
                "--office/--no-office",
                help="The county office's node: it speaks for the organisation tree (default: no).",
            ),
        ] = None,
        from_seq: Annotated[
            int | None,
            typer.Option(
                "--from-seq",
                min=1,
                help="Re-enrol a node whose keys were revoked from this seq (`revoke-key`): the new key "
                "signs from it on.",
            ),
        ] = None,
    ) -> None:
        """Enrol a branch node's public key (its quarantined messages can then be retried) and whom
        it speaks for, and, with --nats-key, let it connect to NATS as itself. Enrolling again with
        the same key changes nothing; whom a node speaks for is fixed at its first enrolment, except
        for a node enrolled before this was recorded, which declares it once (the projections are
        then rebuilt). With --from-seq, re-enrol a node after a revocation with its new key
        (printed by `tongxin node rekey`)."""
        access = None
        if nats_key is not None:
            if county_id is None:
                raise fail("--county-id: needed with --nats-key (the node's subjects name the county)")
            access = _access(nats_access)
        engine = make_engine(db)
        try:
            migrate(engine)
            with engine.begin() as conn:
                if from_seq is None:
                    key_id = enrol(conn, node_id, public_key, org_ids=org or None, office=office)
                else:
                    key_id = reenrol(conn, node_id, public_key, from_seq)
            if access is not None and nats_key is not None and county_id is not None:
                access.allow_node(county_id, node_id, nats_key)
        except FieldError as exc:
            raise fail(str(exc)) from None
        finally:
            engine.dispose()
        since = "" if from_seq is None else f" from seq {from_seq}"
        out.print(f"node {node_id} enrolled with key {key_id}{since}")
        if access is not None:
            state = "server reloaded" if access.running() else "no server running here: reload it"
            out.print(f"NATS: node {node_id} may connect as {nats_key} ({state})")

    @app.command(
        "revoke-node",
        epilog="Example: tongxin county revoke-node dongguan --nats-access tongxin-data/nats/access",
    )
    def revoke_node(
        node_id: Annotated[str, typer.Argument(help="The node whose NATS access ends now.")],
        nats_access: NatsAccess = None,
    ) -> None:
        """Take a node's NATS access away at once, its live connections included, without restarting
        the server. It can come back only with a new NATS key (`enrol-node … --nats-key`)."""
        access = _access(nats_access)
        try:
            revoked = access.revoke_node(node_id)
        except FieldError as exc:
            raise fail(str(exc)) from None
        reloaded = access.running()
        out.print(f"node {node_id}: NATS access revoked at {revoked.revoked_at}")
        if not reloaded:
            out.print(
                "no running server found beside this access directory: reload each server "
                "(systemctl reload tongxin-nats) for the revocation to take effect",
                highlight=False,
            )
