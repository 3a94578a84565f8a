from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kalshi_wx.core.climate_day import climate_date_of, climate_day_window, minutes_of_climate_day

NY = ZoneInfo("America/New_York")


def test_window_is_local_standard_midnight_in_winter():
    start, end = climate_day_window(date(2026, 1, 15), -5)
    assert start == datetime(2026, 1, 15, 5, tzinfo=UTC)
    assert start.astimezone(NY).hour == 0
    assert end - start == timedelta(days=1)


def test_window_runs_one_to_one_civil_time_during_daylight_time():
    start, end = climate_day_window(date(2026, 7, 4), -5)
    assert start.astimezone(NY) == datetime(2026, 7, 4, 1, tzinfo=NY)
    assert end.astimezone(NY) == datetime(2026, 7, 5, 1, tzinfo=NY)


@pytest.mark.parametrize(
    ("day", "civil_hours", "civil_start", "civil_end"),
    [
        # 2026-03-08: clocks spring forward at 02:00, the civil day has 23 hours.
        (date(2026, 3, 8), 23, (3, 8, 0), (3, 9, 1)),
        # 2026-11-01: clocks fall back at 02:00, the civil day has 25 hours.
        (date(2026, 11, 1), 25, (11, 1, 1), (11, 2, 0)),
    ],
)
def test_window_is_24_hours_across_dst_transitions(day, civil_hours, civil_start, civil_end):
    civil_day_start = datetime(day.year, day.month, day.day, tzinfo=NY)
    civil_day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=NY)
    assert (civil_day_end.astimezone(UTC) - civil_day_start.astimezone(UTC)) == timedelta(hours=civil_hours)

    start, end = climate_day_window(day, -5)
    assert end - start == timedelta(hours=24)
    local_start, local_end = start.astimezone(NY), end.astimezone(NY)
    assert (local_start.month, local_start.day, local_start.hour) == civil_start
    assert (local_end.month, local_end.day, local_end.hour) == civil_end
    assert len(minutes_of_climate_day(day, -5)) == 1440


def test_late_evening_daylight_time_belongs_to_the_same_climate_day():
    # 00:30 EDT on July 1 is 23:30 EST on June 30.
    assert climate_date_of(datetime(2026, 7, 1, 0, 30, tzinfo=NY), -5) == date(2026, 6, 30)
    assert climate_date_of(datetime(2026, 7, 1, 1, 0, tzinfo=NY), -5) == date(2026, 7, 1)
    # Not the UTC day either: 03:00Z July 1 is still June 30 in New York.
    assert climate_date_of(datetime(2026, 7, 1, 3, tzinfo=UTC), -5) == date(2026, 6, 30)


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="naive"):
        climate_date_of(datetime(2026, 7, 1), -5)


def test_real_kalshi_close_time_is_the_last_minute_of_the_climate_day(real_markets):
    # Kalshi closes KXHIGHNY at 04:59Z all year: 23:59 EST, the end of the climate day.
    for market in real_markets:
        climate_date = datetime.strptime(market["event_ticker"].split("-")[1], "%y%b%d").date()
        close = datetime.fromisoformat(market["close_time"])
        start, end = climate_day_window(climate_date, -5)
        assert climate_date_of(close, -5) == climate_date
        assert end - close == timedelta(minutes=1)
