"""The community's VEN bound to the database: an OpenADR event goes through the same `receive_event` as a REST
one (recorded once, decided, dispatched), and the telemetry is the community's metered load."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from lec.db.models.flex import EventDecision, EventSource
from lec.settings import Settings
from oracle.flex.service import EventRequest, community_load_w, receive_event
from oracle.flex.ven import CommunityVen, OpenAdrEvent, VenConfig


def _now() -> datetime:
    return datetime.now(UTC)


def config_from(settings: Settings) -> VenConfig:
    if not settings.flex_vtn_url:
        raise ValueError("No VTN is configured: set the VTN's URL (LEC_FLEX_VTN_URL) to run the community's VEN.")
    return VenConfig(
        vtn_url=settings.flex_vtn_url,
        ven_name=settings.flex_ven_name,
        cert=str(settings.flex_ven_cert) if settings.flex_ven_cert else None,
        key=str(settings.flex_ven_key) if settings.flex_ven_key else None,
        vtn_fingerprint=settings.flex_vtn_fingerprint,
        ca_file=str(settings.flex_vtn_ca_file) if settings.flex_vtn_ca_file else None,
        report_seconds=settings.flex_report_seconds,
    )


def community_ven(
    config: VenConfig,
    engine: Engine,
    community_id: int,
    min_cover_bps: int,
    buyer: str = "openadr-vtn",
    clock: Callable[[], datetime] = _now,
) -> CommunityVen:
    def decide(event: OpenAdrEvent) -> bool:
        request = EventRequest(
            community_id=community_id,
            source=EventSource.OPENADR,
            external_id=event.event_id,
            buyer=buyer,
            start=event.start,
            end=event.end,
            request_w=event.request_w,
        )
        with Session(engine, expire_on_commit=False) as session:
            return receive_event(session, request, clock(), min_cover_bps).decision is EventDecision.OPTED_IN

    def telemetry() -> int:
        with Session(engine) as session:
            return community_load_w(session, community_id, clock())

    return CommunityVen(config, decide, telemetry)


async def serve(ven: CommunityVen, stop: asyncio.Event) -> None:
    """Run the VEN until `stop` is set."""
    await ven.start()
    try:
        await stop.wait()
    finally:
        await ven.stop()
