"""`lec flex …`: the community's OpenADR VEN and the demo's loopback VTN (thin over oracle.flex)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import UTC, datetime, timedelta

import click


@click.group(name="flex")
def flex() -> None:
    """Flexibility and demand response (docs/flexibility.md)."""


@flex.command("ven")
@click.option("--community", "community_id", type=int, required=True, help="The community's database id.")
def ven_command(community_id: int) -> None:
    """Run the community's VEN against the configured VTN until interrupted."""
    from lec.db.session import get_engine, init_db
    from lec.settings import get_settings
    from oracle.flex.runner import community_ven, config_from, serve

    settings = get_settings()
    try:
        config = config_from(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    engine = init_db(get_engine(settings.database_url))
    from sqlmodel import Session

    from lec.db.models import Community

    with Session(engine) as session:
        if session.get(Community, community_id) is None:
            raise click.ClickException(f"There is no community {community_id} in the database; check --community.")
    ven = community_ven(config, engine, community_id, settings.flex_min_cover_bps)
    asyncio.run(_until_signal(lambda stop: serve(ven, stop)))


@flex.command("demo-event")
@click.option("--community", "community_id", type=int, required=True, help="The community's database id.")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The event's local day.")
def demo_event_command(community_id: int, day: datetime) -> None:
    """The demo's demand-response event on DAY (18:00–19:00, 12 kW), once: declarations of six members, the
    event from the demo buyer, its dispatch and the simulated members' response. A second run changes nothing."""
    from sqlmodel import Session

    from lec.db.models import Community
    from lec.db.session import get_engine, init_db
    from lec.settings import get_settings
    from oracle.flex.demo import demo_event

    engine = init_db(get_engine(get_settings().database_url))
    with Session(engine) as session:
        if session.get(Community, community_id) is None:
            raise click.ClickException(f"There is no community {community_id} in the database; check --community.")
        click.echo(demo_event(session, community_id, day.date()))


@flex.command("buyer-offer")
@click.option("--community", "community_id", type=int, required=True, help="The community's database id.")
@click.option("--api", "api_url", default=None, help="The API's base URL (default LEC_API_URL).")
def buyer_offer_command(community_id: int, api_url: str | None) -> None:
    """The demo buyer (`lec-flex-buyer-demo`, its secret in LEC_DATA_DIR/dev-identity.json) reads the community's
    aggregated offer and price with a client-credentials token, as a DSO would."""
    import requests

    from lec.settings import get_settings
    from oracle.flex.demo import buyer_offer

    settings = get_settings()
    try:
        click.echo(buyer_offer(settings.data_dir / "dev-identity.json", api_url or settings.api_url, community_id))
    except (OSError, ValueError, KeyError, requests.RequestException) as exc:
        raise click.ClickException(f"The buyer could not read the offer: {exc}") from exc


@flex.command("vtn-demo")
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--reduce-kw", type=float, default=30.0, show_default=True, help="The event's requested reduction.")
@click.option("--in-minutes", type=int, default=60, show_default=True, help="When the one-hour event starts.")
def vtn_demo_command(port: int, reduce_kw: float, in_minutes: int) -> None:
    """A loopback VTN playing the DSO: registers the community's VEN, sends it one reduction event, prints the
    VEN's answer and its telemetry reports. Loopback only; for demos and tests."""
    from oracle.flex.vtn import LoopbackVtn

    async def run(stop: asyncio.Event) -> None:
        vtn = LoopbackVtn(port)
        await vtn.start()
        click.echo(f"VTN listening on {vtn.url}")
        sent = False
        try:
            while not stop.is_set():
                if vtn.registered and not sent:
                    ven_id = next(iter(vtn.registered.values()))
                    now = datetime.now(UTC)
                    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
                    start += timedelta(minutes=in_minutes + 15)
                    vtn.send_reduction(ven_id, "demo-event-1", start, timedelta(hours=1), reduce_kw)
                    click.echo(f"sent: reduce {reduce_kw} kW from {start.isoformat()} for one hour to {ven_id}")
                    sent = True
                for event_id, opt in list(vtn.opts.items()):
                    click.echo(f"{event_id}: {opt}")
                    vtn.opts.pop(event_id)
                for ven_id, rows in vtn.reports.items():
                    for at, watts in rows:
                        click.echo(f"report from {ven_id}: {watts:.0f} W at {at.isoformat()}")
                    rows.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1)
        finally:
            await vtn.stop()

    asyncio.run(_until_signal(run))


async def _until_signal(body) -> None:  # noqa: ANN001  (a coroutine function taking the stop event)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await body(stop)
