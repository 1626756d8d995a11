"""KPIs: hand-computed goldens (ARERA bands incl. holidays and DST days) and invariants."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lec.calendar import day_grid
from lec.energy import hourly_shared
from oracle.kpi import arera_bands, compute_kpis, mean_daily_curve


def _constant_day(day: date, wh: float = 100.0):
    grid = day_grid(day)
    return grid, np.full((1, grid.size), wh), np.zeros((1, grid.size))


@pytest.mark.parametrize(
    ("day", "f1", "f2", "f3"),
    [
        (date(2026, 11, 25), 4.4, 2.0, 3.2),  # Wednesday: 11 h F1, 5 h F2, 8 h F3
        (date(2026, 11, 28), 0.0, 6.4, 3.2),  # Saturday: 07–23 F2
        (date(2026, 12, 8), 0.0, 0.0, 9.6),  # Immacolata, a Tuesday holiday: all F3
        (date(2026, 3, 29), 0.0, 0.0, 9.2),  # Sunday, spring DST: 23 hours, all F3
        (date(2026, 10, 25), 0.0, 0.0, 10.0),  # Sunday, autumn DST: 25 hours, all F3
        (date(2026, 10, 26), 4.4, 2.0, 3.2),  # Monday after DST: bands follow local time
    ],
)
def test_arera_bands_by_hand(day, f1, f2, f3):
    grid, load, prod = _constant_day(day)
    kpis = compute_kpis(grid, load, prod)
    assert (kpis.f1_kwh, kpis.f2_kwh, kpis.f3_kwh) == pytest.approx((f1, f2, f3))


def test_band_edges_on_a_weekday():
    grid = day_grid(date(2026, 11, 25))
    bands = arera_bands(grid)
    assert bands[4 * 7 - 1] == 3 and bands[4 * 7] == 2 and bands[4 * 8] == 1
    assert bands[4 * 19 - 1] == 1 and bands[4 * 19] == 2 and bands[4 * 23] == 3


def test_hourly_shared_is_never_netted_within_the_hour():
    # One home exports in the first half hour and imports in the second; another only imports.
    load = np.array([[0, 0, 100, 100], [50, 50, 50, 50]], dtype=float)
    prod = np.array([[100, 100, 0, 0], [0, 0, 0, 0]], dtype=float)
    grid = day_grid(date(2026, 11, 25))[:4]
    kpis = compute_kpis(grid, load, prod)
    # I = 200, W = 200 + 200 = 400: S = 200 Wh although the first home nets to zero over the hour.
    assert kpis.shared_energy_kwh == pytest.approx(0.2)
    assert kpis.injection_kwh == pytest.approx(0.2) and kpis.withdrawal_kwh == pytest.approx(0.4)
    assert kpis.self_consumption_kwh == 0


def test_self_consumption_and_percentages_by_hand():
    grid = day_grid(date(2026, 11, 25))[:4]
    load = np.array([[100.0, 100, 100, 100]])
    prod = np.array([[300.0, 300, 0, 0]])
    kpis = compute_kpis(grid, load, prod)
    assert kpis.self_consumption_kwh == pytest.approx(0.2)
    assert kpis.self_consumption_pct == pytest.approx(100 * 200 / 600)
    assert kpis.self_sufficiency_pct == pytest.approx(50.0)
    assert kpis.peak_kw == pytest.approx(0.4) and kpis.base_kw == pytest.approx(0.4)


def test_missing_quarter_hours_are_counted_not_invented():
    grid, load, prod = _constant_day(date(2026, 11, 25))
    load[0, :8] = np.nan
    kpis = compute_kpis(grid, load, prod, imputed_intervals=3)
    assert kpis.missing_intervals == 8 and kpis.imputed_intervals == 3
    assert kpis.load_kwh == pytest.approx(8.8)


def test_mean_daily_curve_maps_dst_days_to_96_wall_clock_slots():
    days = [date(2026, 3, 29), date(2026, 10, 25)]
    grids = [day_grid(d) for d in days]
    ts = np.concatenate(grids)
    values = np.concatenate([np.full(g.size, 10.0) for g in grids])
    curve = mean_daily_curve(ts, values)
    assert curve.shape == (96,) and np.allclose(curve, 10.0)


energy = arrays(np.float64, (3, 8), elements=st.floats(min_value=0, max_value=4000, allow_nan=False))


@settings(max_examples=80, deadline=None)
@given(load=energy, prod=energy)
def test_kpi_invariants(load, prod):
    grid = day_grid(date(2026, 11, 25))[:8]
    kpis = compute_kpis(grid, load, prod)
    assert kpis.self_consumption_kwh <= kpis.load_kwh + 1e-9
    assert kpis.self_consumption_kwh <= kpis.production_kwh + 1e-9
    for pct in (kpis.self_consumption_pct, kpis.self_sufficiency_pct, kpis.base_load_share_pct):
        assert 0 <= pct <= 100
    assert kpis.shared_energy_kwh <= kpis.injection_kwh + 1e-9
    assert kpis.shared_energy_kwh <= kpis.withdrawal_kwh + 1e-9
    assert kpis.f1_kwh + kpis.f2_kwh + kpis.f3_kwh == pytest.approx(kpis.load_kwh)
    shared, injected, withdrawn = hourly_shared(np.maximum(prod - load, 0), np.maximum(load - prod, 0))
    assert (shared <= injected).all() and (shared <= withdrawn).all()
