"""Synthetic 15-minute curves: BDEW standard load profiles and pvlib clear-sky PV with cloudiness noise.

Pure functions of (dates, parameters, random generator). Energies are Wh per quarter hour as magnitudes;
the caller applies the report's sign convention. Grids are UTC quarter hours covering whole local days in
Europe/Rome, so DST days have 92 or 100 quarter hours.
"""

from __future__ import annotations

from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from lec.calendar import ROME

QUARTER_H = 0.25


@lru_cache(maxsize=4)
def _bdew_year(year: int) -> pd.DataFrame:
    from demandlib import bdew

    # Italian holidays, so Sundays-and-holidays shapes fall on Italy's holidays, not Germany's.
    italy = holidays.Italy(years=year)
    profile = bdew.ElecSlp(year, holidays=dict(italy)).get_profile(
        {"h0": 1000.0, "g0": 1000.0, "g1": 1000.0, "g4": 1000.0}
    )
    return profile  # kW for 1 000 kWh/year, naive local wall-clock index


def bdew_shape(grid: pd.DatetimeIndex, profile: str) -> np.ndarray:
    """Wh per quarter hour of a 1 000 kWh/year consumer of BDEW `profile` (h0, g0, g1, g4) on `grid`.

    BDEW tables are in local wall-clock time: a quarter hour takes the value of its local wall-clock time,
    so the repeated hour of the autumn DST change repeats the profile and the skipped spring hour is skipped.
    """
    local = grid.tz_convert(ROME).tz_localize(None)
    values = np.empty(len(grid))
    for year in sorted(set(local.year)):
        mask = local.year == year
        table = _bdew_year(int(year))[profile]
        values[mask] = table.reindex(local[mask]).to_numpy()
    return values * QUARTER_H * 1000.0


def consumer_load(
    grid: pd.DatetimeIndex,
    shape_1000: np.ndarray,
    annual_kwh: float,
    rng: np.random.Generator,
    *,
    shift_quarters: int = 0,
    day_sigma: float = 0.12,
    quarter_sigma: float = 0.18,
) -> np.ndarray:
    """A member's load: a shape (:func:`bdew_shape`) scaled to `annual_kwh`, shifted, with day and quarter noise.

    The noise is multiplicative lognormal with mean 1, so the annual energy is preserved on average.
    """
    shape = np.roll(shape_1000, shift_quarters) * (annual_kwh / 1000.0)
    day_index = pd.factorize(grid.tz_convert(ROME).date)[0]
    day_factor = rng.lognormal(-(day_sigma**2) / 2, day_sigma, size=day_index.max() + 1)[day_index]
    quarter_factor = rng.lognormal(-(quarter_sigma**2) / 2, quarter_sigma, size=len(grid))
    return np.maximum(shape * day_factor * quarter_factor, 0.0)


def cloudiness(grid: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Cloud cover 0..1 per quarter hour: a daily level (cloudier in winter) plus a smooth AR(1) wander."""
    local_dates = grid.tz_convert(ROME)
    day_index, days = pd.factorize(local_dates.date)
    month = np.array([d.month for d in days])
    winter = np.cos((month - 1) / 12 * 2 * np.pi) * 0.5 + 0.5  # 1 in January, 0 in July
    daily = rng.beta(0.6 + 1.2 * winter, 1.6, size=len(days))
    wander = np.zeros(len(grid))
    noise = rng.normal(0, 0.08, size=len(grid))
    for k in range(1, len(grid)):
        wander[k] = 0.9 * wander[k - 1] + noise[k]
    return np.clip(daily[day_index] + wander, 0.0, 1.0)


def pv_production(
    grid: pd.DatetimeIndex,
    kwp: float,
    latitude: float,
    longitude: float,
    cloud: np.ndarray,
    *,
    tilt: float = 30.0,
    azimuth: float = 180.0,
    performance_ratio: float = 0.85,
) -> np.ndarray:
    """Wh per quarter hour of a PV plant: Ineichen clear sky, plane-of-array transposition, cloud attenuation.

    Cloud attenuation follows Kasten & Czeplak (1980): GHI = clear-sky GHI · (1 − 0.75·N^3.4).
    """
    from pvlib import irradiance
    from pvlib.location import Location

    site = Location(latitude, longitude, tz="UTC", altitude=50)
    middle = grid + pd.Timedelta(minutes=7.5)  # the sun's position in the middle of each quarter hour
    clear = site.get_clearsky(middle, model="ineichen")
    sun = site.get_solarposition(middle)
    poa = irradiance.get_total_irradiance(
        tilt, azimuth, sun["apparent_zenith"], sun["azimuth"], clear["dni"], clear["ghi"], clear["dhi"]
    )["poa_global"].to_numpy()
    attenuation = 1.0 - 0.75 * np.power(cloud, 3.4)
    return np.nan_to_num(np.maximum(poa, 0.0)) / 1000.0 * kwp * performance_ratio * attenuation * QUARTER_H * 1000.0


def clear_sky_ghi(grid: pd.DatetimeIndex, latitude: float, longitude: float) -> np.ndarray:
    from pvlib.location import Location

    site = Location(latitude, longitude, tz="UTC", altitude=50)
    return site.get_clearsky(grid + pd.Timedelta(minutes=7.5), model="ineichen")["ghi"].to_numpy()


def battery_dispatch(
    load: np.ndarray, production: np.ndarray, capacity_wh: float, max_wh_per_quarter: float, efficiency: float = 0.95
) -> np.ndarray:
    """Energy into (+) or out of (−) a battery per quarter hour under self-consumption control.

    Surplus PV charges it, deficits discharge it, within capacity and power; starts half full.
    """
    flow = np.zeros(len(load))
    soc = capacity_wh / 2
    for k, surplus in enumerate(production - load):
        if surplus > 0:
            charge = min(surplus, max_wh_per_quarter, (capacity_wh - soc) / efficiency)
            soc += charge * efficiency
            flow[k] = charge
        else:
            discharge = min(-surplus, max_wh_per_quarter, soc)
            soc -= discharge
            flow[k] = -discharge
    return flow
