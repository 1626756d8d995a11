"""The community's OpenADR 2.0b VEN (Virtual End Node), on `openleadr`'s client.

It registers with the buyer's VTN (the DSO's or aggregator's server), polls it, answers each event with optIn
or optOut as `decide` says (the community's declared flexibility, :mod:`oracle.flex.dispatch`), and reports
the community's metered load (`power_real`, W) every `report_seconds`.

Events the VEN understands: a `LOAD_DISPATCH` signal of type `delta` whose interval payloads are the change of
load in kW (negative = reduce: -30 asks for 30 kW less). The request is the largest reduction of the intervals,
the window from the first interval's start to the last one's end. Any other signal is answered optOut: the
community never accepts what it cannot measure or deliver.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from openleadr import OpenADRClient

log = logging.getLogger(__name__)

SIGNAL_NAME = "LOAD_DISPATCH"
SIGNAL_TYPE = "delta"
REPORT_SPECIFIER = "community-load"


@dataclass(frozen=True)
class OpenAdrEvent:
    event_id: str
    start: datetime
    end: datetime
    request_w: int


def parse_event(event: dict[str, Any]) -> OpenAdrEvent | None:
    """The event's window and requested reduction, or None when it is not a load reduction the VEN handles."""
    event_id = str(event.get("event_descriptor", {}).get("event_id", ""))
    for signal in event.get("event_signals", []):
        if str(signal.get("signal_name", "")).upper() != SIGNAL_NAME or signal.get("signal_type") != SIGNAL_TYPE:
            continue
        intervals = signal.get("intervals") or []
        if not intervals or not event_id:
            return None
        start = min(i["dtstart"] for i in intervals)
        end = max(i["dtstart"] + i["duration"] for i in intervals)
        request_w = round(max(-float(i["signal_payload"]) for i in intervals) * 1000)
        return OpenAdrEvent(event_id, start, end, request_w) if request_w > 0 and end > start else None
    return None


@dataclass(frozen=True)
class VenConfig:
    vtn_url: str
    ven_name: str
    cert: str | None = None
    key: str | None = None
    vtn_fingerprint: str | None = None
    ca_file: str | None = None
    report_seconds: int = 900


class CommunityVen:
    """`decide(event) -> bool` (opt in?) and `telemetry() -> W` run in a worker thread: they touch the
    database."""

    def __init__(self, config: VenConfig, decide: Callable[[OpenAdrEvent], bool], telemetry: Callable[[], int]) -> None:
        signed = config.cert is not None and config.key is not None
        self.client = OpenADRClient(
            ven_name=config.ven_name,
            vtn_url=config.vtn_url,
            cert=config.cert,
            key=config.key,
            vtn_fingerprint=config.vtn_fingerprint,
            ca_file=config.ca_file,
            disable_signature=not signed,
            show_fingerprint=False,
        )
        self._decide = decide
        self._telemetry = telemetry
        self.client.add_handler("on_event", self._on_event)
        self.client.add_report(
            callback=self._read,
            resource_id=config.ven_name,
            measurement="power_real",
            unit="W",
            sampling_rate=timedelta(seconds=config.report_seconds),
            report_duration=timedelta(seconds=config.report_seconds),
            report_specifier_id=REPORT_SPECIFIER,
        )

    async def _on_event(self, event: dict[str, Any]) -> str:
        parsed = parse_event(event)
        if parsed is None:
            log.info("OpenADR event %s is not a load reduction the community handles: optOut", event)
            return "optOut"
        try:
            opt_in = await asyncio.to_thread(self._decide, parsed)
        except Exception:  # the community never accepts an event it could not record and dispatch
            log.exception("OpenADR event %s could not be recorded: optOut", parsed.event_id)
            return "optOut"
        return "optIn" if opt_in else "optOut"

    async def _read(self) -> float:
        return float(await asyncio.to_thread(self._telemetry))

    async def start(self) -> None:
        await self.client.run()

    async def stop(self) -> None:
        await self.client.stop()
