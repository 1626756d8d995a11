"""`lec dapp`: serve the Streamlit dApp (`streamlit run dapp/app.py`) on this machine."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from lec.settings import environment

APP = Path(__file__).with_name("app.py")


def streamlit_command(host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
    ]  # fmt: skip


@click.command(name="dapp")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--dev-identity",
    is_flag=True,
    help="Offer the demo sign-in (the API's dev identity, `lec api --dev-identity`); loopback only.",
)
def dapp(host: str, port: int, dev_identity: bool) -> None:
    """Serve the dApp; it reads the API at LEC_API_URL and the chain at LEC_RPC_URL."""
    env = environment()
    if dev_identity:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise click.UsageError(f"The demo sign-in stays on this machine: use --host 127.0.0.1, not {host}.")
        env["LEC_DEV_IDENTITY"] = "1"
    click.echo(f"dApp: http://{'localhost' if host == '127.0.0.1' else host}:{port}")
    # Replaced by Streamlit (not a child of it), so stopping this process stops the dApp.
    command = streamlit_command(host, port)
    os.execve(command[0], command, env)
