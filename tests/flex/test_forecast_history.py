"""A forecast asked for a community with too little history is refused with a sentence, never a crash."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from lec.calendar import local_day_grid
from oracle.flex.forecast import ForecastError, forecast_load


@pytest.mark.parametrize("days", [0, 1, 7])
def test_too_few_days_of_history_is_a_forecast_error(days):
    day = date(2026, 11, 20)
    index = local_day_grid(date(2026, 11, 20 - days), days) if days else pd.DatetimeIndex([], tz="UTC")
    history = pd.Series(100.0, index=index)
    with pytest.raises(ForecastError, match="too few complete days"):
        forecast_load(history, day)
