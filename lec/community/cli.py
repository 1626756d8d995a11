"""`lec community import MANIFEST.json`: put a real community on the platform (docs/onboarding.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlmodel import Session

from lec.community.importer import import_manifest
from lec.community.manifest import ManifestError, parse_manifest
from lec.db.session import init_db


@click.group(name="community")
def community() -> None:
    """The community admin's duties: onboard a community from its manifest."""


@community.command(name="import")
@click.argument("manifest_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print what was created, updated and left unchanged as JSON.")
def import_command(manifest_file: Path, as_json: bool) -> None:
    """Create or update the community's members, devices, flows and plants from MANIFEST_FILE (idempotent)."""
    try:
        manifest = parse_manifest(manifest_file.read_bytes())
        with Session(init_db(), expire_on_commit=False) as session:
            report = import_manifest(session, manifest)
    except ManifestError as exc:
        raise click.ClickException(
            "\n  ".join([f"{manifest_file.name}: the manifest cannot be imported:", *exc.problems])
        ) from exc
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    summary = report.as_dict()
    state = "imported" if report.changed else "already up to date: nothing changed"
    click.echo(f"Community {manifest.community.chain_id} ({manifest.community.name}) {state}.")
    for what in ("created", "updated"):
        if summary[what]:
            click.echo(f"  {what}: " + ", ".join(f"{n} {k}" for k, n in summary[what].items()))
