"""The energy rules every part of the platform shares (DESIGN §5, §5.6): what a member's grid meter (POD)
registers, and the GSE/TIAD shared energy of a community.

Per quarter hour, a member's injection and withdrawal are the exchange meter's own readings where it has
one, otherwise ``max(P − L, 0)`` and ``max(L − P, 0)``; they are summed to the hour and never netted over
it; the community's shared energy per hour is ``S(h) = min(Σ inj_i(h), Σ wdr_i(h))``. The oracle (KPIs,
rewards, GSE incentive) and the API's dashboards call these functions and no copy of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from lec.calendar import QUARTERS_PER_HOUR

LOAD, PRODUCTION, EXCHANGE, STORAGE = "load", "production", "exchange", "storage"


@dataclass(frozen=True)
class GridPoint:
    """A member's energy per quarter hour as seen at its grid point, magnitudes in Wh (integers).

    ``injection``/``withdrawal`` are the exchange meter's readings, or None when the member has none (then
    :func:`grid_exchange` derives them from load and production)."""

    load: np.ndarray
    production: np.ndarray
    injection: np.ndarray | None
    withdrawal: np.ndarray | None


def grid_point(devices: Iterable[tuple[str, np.ndarray]], n: int | tuple[int, ...]) -> GridPoint:
    """Load, production and exchange of a member from its devices' readings, each ``(quantity, values)`` with
    ``n`` integer Wh in the report's sign convention (load and withdrawal +, production and injection −,
    battery charge +; quarter hours with nothing measured passed as 0). With ``n`` a shape ``(members, n)``
    and each device's values one row per member, the same rule for many members whose devices have the same
    quantities, one row each (the Spark engine's year of curves).

    A battery's charge is load and its discharge production, as seen from the member's grid point. A member
    with only a grid meter: what it registers is all we know of its load and production.
    """
    load = np.zeros(n, dtype=np.int64)
    prod = np.zeros(n, dtype=np.int64)
    inj = np.zeros(n, dtype=np.int64)
    wdr = np.zeros(n, dtype=np.int64)
    has = {LOAD: False, PRODUCTION: False, EXCHANGE: False}
    for quantity, raw in devices:
        values = np.asarray(raw, dtype=np.int64)
        if quantity == LOAD:
            load += np.maximum(values, 0)
        elif quantity == PRODUCTION:
            prod += np.maximum(-values, 0)
        elif quantity == STORAGE:
            load += np.maximum(values, 0)
            prod += np.maximum(-values, 0)
        elif quantity == EXCHANGE:
            wdr += np.maximum(values, 0)
            inj += np.maximum(-values, 0)
        else:
            continue
        has[quantity if quantity != STORAGE else LOAD] = True
    if has[EXCHANGE] and not (has[LOAD] or has[PRODUCTION]):
        load, prod = wdr.copy(), inj.copy()
    return GridPoint(
        load=load,
        production=prod,
        injection=inj if has[EXCHANGE] else None,
        withdrawal=wdr if has[EXCHANGE] else None,
    )


def grid_exchange(
    load: np.ndarray,
    production: np.ndarray,
    injection: np.ndarray | None = None,
    withdrawal: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """What a grid meter registers per quarter hour: ``(injection, withdrawal)``, both ≥ 0, same dtype as the
    inputs (integers stay integers).

    The exchange meter's own readings win where given (cells not NaN); otherwise ``max(P − L, 0)`` and
    ``max(L − P, 0)`` of the same quarter hour. Works on one member (1-D) or many (one row each).
    """
    net = load - production
    inj = np.maximum(-net, 0)
    wdr = np.maximum(net, 0)
    if injection is not None:
        inj = np.where(np.isnan(injection), inj, injection) if injection.dtype.kind == "f" else injection
    if withdrawal is not None:
        wdr = np.where(np.isnan(withdrawal), wdr, withdrawal) if withdrawal.dtype.kind == "f" else withdrawal
    return inj, wdr


def to_hours(quarters: np.ndarray) -> np.ndarray:
    """Sum each row's quarter hours to clock hours (never netting: callers pass one-signed flows)."""
    rows = quarters.reshape(-1, quarters.shape[-1])
    if rows.shape[1] % QUARTERS_PER_HOUR:
        raise ValueError("A grid of whole local days has a multiple of 4 quarter hours; this one does not.")
    hours = rows.reshape(rows.shape[0], -1, QUARTERS_PER_HOUR).sum(axis=2)
    return hours.reshape(*quarters.shape[:-1], -1)


def hourly_shared(injection: np.ndarray, withdrawal: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GSE shared energy per hour ``S(h) = min(I(h), W(h))`` with ``I``, ``W`` summed over members (rows).

    Returns ``(S, I, W)`` per hour. Each member's flows are summed to the hour first and never netted:
    a home may import and export within the same hour and both count.
    """
    inj_h = to_hours(injection).sum(axis=0)
    wdr_h = to_hours(withdrawal).sum(axis=0)
    return np.minimum(inj_h, wdr_h), inj_h, wdr_h
