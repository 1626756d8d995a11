"""`lec api`: serve the HTTP API with uvicorn."""

from __future__ import annotations

import click
from pydantic import ValidationError

from lec.settings import Settings


@click.command(name="api")
@click.option("--host", default=None, help="Interface to bind (LEC_API_HOST, default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (LEC_API_PORT, default 8000).")
@click.option(
    "--dev-identity",
    is_flag=True,
    default=None,
    help="Issue demo tokens from a local Keycloak-compatible server (LEC_API_DEV_IDENTITY; loopback only).",
)
def api(host: str | None, port: int | None, dev_identity: bool | None) -> None:
    """Serve the platform API (OpenAPI docs at /docs)."""
    import uvicorn

    from dapp.api.main import create_app

    overrides = {k: v for k, v in {"host": host, "port": port, "dev_identity": dev_identity}.items() if v is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise click.UsageError("; ".join(str(e["msg"]) for e in exc.errors())) from exc
    app = create_app(settings)
    click.echo(f"API docs: http://{settings.host}:{settings.port}/docs")
    if app.state.dev_identity is not None:
        click.echo(f"Dev identity: {app.state.dev_identity.url} (accounts in $LEC_DATA_DIR/dev-identity.json)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
