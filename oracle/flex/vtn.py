"""A loopback OpenADR 2.0b VTN on `openleadr`'s server: the DSO of the demo and the tests.

It registers any VEN (a real VTN checks the VEN's certificate fingerprint: `fingerprint_lookup`), queues events
for it, records each VEN's optIn/optOut, and collects the telemetry the VEN reports.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from openleadr import OpenADRServer

from oracle.flex.ven import SIGNAL_NAME, SIGNAL_TYPE


class LoopbackVtn:
    def __init__(self, port: int, vtn_id: str = "dso-demo", poll_seconds: int = 1) -> None:
        self.vtn_id = vtn_id
        self.url = f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b"
        self.server = OpenADRServer(
            vtn_id=vtn_id,
            http_port=port,
            http_host="127.0.0.1",
            requested_poll_freq=timedelta(seconds=poll_seconds),
            verify_message_signatures=False,
            show_server_cert_domain=False,
        )
        self.registered: dict[str, str] = {}  # ven name → ven id
        self.opts: dict[str, str] = {}  # event id → optIn | optOut
        self.reports: dict[str, list[tuple[datetime, float]]] = defaultdict(list)  # ven id → (time, W)
        self.server.add_handler("on_create_party_registration", self._register)
        self.server.add_handler("on_register_report", self._register_report)

    async def _register(self, info: dict[str, Any]) -> tuple[str, str]:
        name = str(info["ven_name"])
        ven_id = self.registered.setdefault(name, f"ven-{len(self.registered) + 1}")
        return ven_id, f"reg-{ven_id}"

    async def _register_report(  # openleadr reads these parameter names: one call per offered measurement
        self,
        ven_id: str,
        resource_id: str,
        measurement: str,
        unit: str,
        scale: str,
        min_sampling_interval: timedelta,
        max_sampling_interval: timedelta,
    ) -> tuple[Any, timedelta]:
        async def collect(data: list[tuple[datetime, float]]) -> None:
            self.reports[ven_id].extend(data)

        return collect, timedelta(seconds=1)

    def _opted(self, ven_id: str, event_id: str, opt_type: str) -> None:
        self.opts[event_id] = opt_type

    def send_reduction(self, ven_id: str, event_id: str, start: datetime, duration: timedelta, kw: float) -> None:
        """Queue "reduce `kw` kW from `start` for `duration`" for the VEN (delivered at its next poll)."""
        self.server.add_event(
            ven_id=ven_id,
            signal_name=SIGNAL_NAME,
            signal_type=SIGNAL_TYPE,
            intervals=[{"dtstart": start, "duration": duration, "signal_payload": -abs(kw)}],
            callback=self._opted,
            event_id=event_id,
        )

    async def start(self) -> None:
        await self.server.run()

    async def stop(self) -> None:
        await self.server.stop()
