"""Day-ahead forecast of the community's load and PV production per quarter hour, for the flexibility buyer.

- **Load**: scikit-learn's ridge regression on the last 28 days; features: the clock quarter hour (one-hot),
  working day or not (weekends and Italian holidays), and the load of the same clock time 1 and 7 days before
  (the day to forecast uses the last known day and the day a week before it — nothing from the forecast day).
- **PV**: pvlib's Ineichen clear-sky irradiance on the horizontal (`clear_sky_ghi`), scaled by the community's
  clear-sky index: the ratio production / clear-sky GHI fitted on the last 7 days (least squares through the
  origin), so the plants' size, orientation and recent cloudiness come from the data, not from a declaration.

Both are compared against *persistence* (tomorrow = the last known day at the same clock time) in
`benchmarks/flex.py --forecast`; errors are nMAE = Σ|forecast − actual| / Σ actual.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from holidays import country_holidays

from lec.calendar import ROME, local_day_grid
from oracle.simulate.profiles import clear_sky_ghi

TRAIN_DAYS = 28
PV_DAYS = 7


def _features(index: pd.DatetimeIndex, series: pd.Series) -> pd.DataFrame:
    local = index.tz_convert(ROME)
    holidays = country_holidays("IT", years=sorted(set(local.year)))
    minute = np.asarray(local.hour * 60 + local.minute)
    # Lags by local clock time, so DST days line up (a missing clock time gives NaN, which the model accepts).
    by_clock = pd.Series(
        series.to_numpy(),
        index=pd.MultiIndex.from_arrays(
            [
                series.index.tz_convert(ROME).date,
                series.index.tz_convert(ROME).hour * 60 + series.index.tz_convert(ROME).minute,
            ]
        ),
    )
    by_clock = by_clock[~by_clock.index.duplicated()]
    days = list(local.date)

    def lag(n: int) -> np.ndarray:
        keys = list(zip([d - timedelta(days=n) for d in days], minute.tolist(), strict=True))
        return by_clock.reindex(keys).to_numpy(dtype=float)

    return pd.DataFrame(
        {
            "minute": minute,
            "weekday": np.asarray(local.weekday),
            "holiday": np.array([d in holidays for d in days], dtype=int),
            "lag1": lag(1),
            "lag7": lag(7),
        }
    )


MIN_TRAINING_DAYS = 8  # a day with its lag-7 feature known needs at least 8 days of readings


class ForecastError(ValueError):
    """Too little history to forecast from; the sentence says what is missing."""


def forecast_load(history: pd.Series, day: date) -> np.ndarray:
    """Wh per quarter hour of `day` from `history` (Wh, UTC quarter-hour index, up to the end of the day before).

    The lag-1 feature of the forecast day is the last known day, so the model is trained on lag 1 too: a
    one-day-ahead model, as a buyer uses it the evening before."""
    from sklearn.linear_model import Ridge

    train_index = local_day_grid(day - timedelta(days=TRAIN_DAYS), TRAIN_DAYS)
    train_index = train_index[train_index.isin(history.index)]
    x = _features(train_index, history)
    y = history.reindex(train_index).to_numpy(dtype=float)
    keep = ~np.isnan(y) & x.notna().all(axis=1).to_numpy()
    if keep.sum() < 96:
        raise ForecastError(
            f"The community has too few complete days of readings before {day:%d/%m/%Y} to forecast it "
            f"(at least {MIN_TRAINING_DAYS} days in a row are needed)."
        )
    model = Ridge(alpha=1.0).fit(_design(x[keep]), y[keep])
    target = _features(local_day_grid(day, 1), history)
    fallback = target["lag1"].fillna(target["lag7"]).fillna(0.0)
    target["lag1"], target["lag7"] = fallback, target["lag7"].fillna(fallback)
    return np.maximum(model.predict(_design(target)), 0.0)


def _design(x: pd.DataFrame) -> np.ndarray:
    quarter = np.zeros((len(x), 96))
    quarter[np.arange(len(x)), (x["minute"].to_numpy() // 15).astype(int)] = 1.0
    working = ((x["weekday"].to_numpy() < 5) & (x["holiday"].to_numpy() == 0)).astype(float)[:, None]
    lags = x[["lag1", "lag7"]].to_numpy(dtype=float)
    return np.hstack([quarter, quarter * working, lags])


def forecast_pv(history: pd.Series, day: date, latitude: float, longitude: float) -> np.ndarray:
    """Wh per quarter hour of `day`'s production (a magnitude) from the last 7 days' production."""
    recent = local_day_grid(day - timedelta(days=PV_DAYS), PV_DAYS)
    produced = history.reindex(recent).to_numpy(dtype=float)
    ghi = clear_sky_ghi(recent, latitude, longitude)
    keep = ~np.isnan(produced)
    denominator = float(np.dot(ghi[keep], ghi[keep]))
    ratio = float(np.dot(ghi[keep], produced[keep])) / denominator if denominator else 0.0
    return np.maximum(clear_sky_ghi(local_day_grid(day, 1), latitude, longitude) * ratio, 0.0)


def persistence(history: pd.Series, day: date) -> np.ndarray:
    """The reference: the last known day's values at the same clock time (the day before; NaN → 0)."""
    target = local_day_grid(day, 1).tz_convert(ROME)
    yesterday = history.copy()
    yesterday.index = yesterday.index.tz_convert(ROME)
    by_clock = {(t.date(), t.hour, t.minute): v for t, v in zip(yesterday.index, yesterday.to_numpy(), strict=True)}
    before = day - timedelta(days=1)
    return np.array([by_clock.get((before, t.hour, t.minute), 0.0) for t in target], dtype=float)


def nmae(forecast: np.ndarray, actual: np.ndarray) -> float:
    total = float(np.abs(actual).sum())
    return float(np.abs(forecast - actual).sum()) / total if total else 0.0
