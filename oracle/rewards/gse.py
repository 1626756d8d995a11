"""The community's GSE incentive on shared energy and its split among members — a report, never on chain.

Tariff (CACER decree, plants <= 200 kW): ``min(120, 80 + max(0, 180 − zonal price))`` €/MWh, plus the
PV regional correction (+4 €/MWh centre, +10 €/MWh north) and ARERA's valorisation of shared energy.
All money is in euro cents and all energy in Wh, so the split is exact like the token rewards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oracle.rewards.integer import split_pro_rata

REGION_CORRECTION_CENTS = {"north": 1_000, "centre": 400, "south": 0}
KEYS = ("pro_rata", "equal", "producers_consumers")


@dataclass(frozen=True)
class GseParams:
    zonal_price_cents_mwh: int = 10_000  # 100 €/MWh
    region: str = "centre"
    arera_valorisation_cents_mwh: int = 800  # about 8 €/MWh of avoided transmission charges
    photovoltaic: bool = True

    def tariff_cents_mwh(self) -> int:
        if self.region not in REGION_CORRECTION_CENTS:
            raise ValueError(f"Unknown region {self.region!r}; use north, centre or south.")
        premium = min(12_000, 8_000 + max(0, 18_000 - self.zonal_price_cents_mwh))
        correction = REGION_CORRECTION_CENTS[self.region] if self.photovoltaic else 0
        return premium + correction + self.arera_valorisation_cents_mwh


@dataclass(frozen=True)
class IncentiveReport:
    shared_wh: int
    tariff_cents_mwh: int
    incentive_cents: int
    key: str
    accounts: list[str]
    cents: list[int]


def incentive_report(
    shared_wh: int,
    accounts: Sequence[str],
    shared_as_producer: Sequence[int],
    shared_as_consumer: Sequence[int],
    params: GseParams | None = None,
    key: str = "pro_rata",
    producers_pct: int = 50,
) -> IncentiveReport:
    """The period's incentive in cents and each member's part under the chosen split key."""
    params = params or GseParams()
    tariff = params.tariff_cents_mwh()
    total = shared_wh * tariff // 1_000_000
    if key == "pro_rata":
        weights = [a + b for a, b in zip(shared_as_producer, shared_as_consumer, strict=True)]
        cents = split_pro_rata(total, weights, accounts)
    elif key == "equal":
        cents = split_pro_rata(total, [1] * len(accounts), accounts)
    elif key == "producers_consumers":
        if not 0 <= producers_pct <= 100:
            raise ValueError("producers_pct is a percentage between 0 and 100.")
        to_producers = total * producers_pct // 100
        prod = split_pro_rata(to_producers, list(shared_as_producer), accounts)
        cons = split_pro_rata(total - to_producers, list(shared_as_consumer), accounts)
        cents = [a + b for a, b in zip(prod, cons, strict=True)]
    else:
        raise ValueError(f"Unknown split key {key!r}; choose one of {', '.join(KEYS)}.")
    return IncentiveReport(
        shared_wh=shared_wh,
        tariff_cents_mwh=tariff,
        incentive_cents=total,
        key=key,
        accounts=list(accounts),
        cents=cents,
    )
