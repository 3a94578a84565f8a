"""ASOS archives to the observation frame: the real NCEI 5-minute files and IEM's documented 1-minute CSV."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from kalshi_wx.core.climate_day import climate_date_expr, climate_day_window
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.asos import (
    dsi6401_frame,
    dsi6401_rows,
    iem_1min_frame,
    iem_1min_rows,
    iem_station_id,
    tenths_c_to_f,
)
from kalshi_wx.core.payloads.observations import STATION_OBS_SCHEMA

NCEI_DIR = "asos_5min/jetpackjules_KNYC"
JULY = f"{NCEI_DIR}/asos-5min-KNYC-202507.dat"

# The documented asos1min.py answer (reference s1, IEM pylib/iemweb/request/asos1min.py): a header
# `station,station_name,valid(<tz>),<vars>`, rows `YYYY-MM-DD HH:MM` in the zone, None printed as M, whole-°F
# integers. No real 1-minute file is in the shared data; the values below are made up, the layout is not.
IEM_1MIN = (
    "station,station_name,valid(UTC),tmpf,dwpf,sknt\n"
    "NYC,NEW YORK CITY CENTRAL PARK,2025-07-01 18:58,88,66,4\n"
    "NYC,NEW YORK CITY CENTRAL PARK,2025-07-01 18:59,89,66,M\n"
    "NYC,NEW YORK CITY CENTRAL PARK,2025-07-01 19:00,M,M,M\n"
    "NYC,NEW YORK CITY CENTRAL PARK,2025-07-01 19:01,88,65,5\n"
)


def test_iem_ids_drop_the_k_of_a_four_letter_k_id_only():
    assert [iem_station_id(s) for s in ("KNYC", "KMDW", "NYC", "PANC")] == ["NYC", "MDW", "NYC", "PANC"]


def test_tenths_of_c_round_back_to_the_whole_f_they_came_from():
    # ASOS stores whole °F; the 5-minute T group is that value in tenths of °C (reference s2).
    for whole_f in range(-40, 121):
        tenths = round((whole_f - 32) * 50 / 9)
        assert tenths_c_to_f(tenths) == whole_f
    assert tenths_c_to_f(256) == 78  # 25.6 °C = 78.08 °F, the reference's worked example


def test_real_6401_month_parses_every_record_in_utc(real_data):
    text = (real_data / JULY).read_text()
    rows = dsi6401_rows(text, station="KNYC", std_utc_offset_hours=-5, origin=JULY)
    assert len(rows) == len(text.splitlines()) == 7905
    first = rows[0]
    # "...20250701000011907/01/25 00:00:31  5-MIN KNYC 010500Z ... T02560217 $": local standard midnight is 05Z.
    assert first["ts"] == datetime(2025, 7, 1, 5, tzinfo=UTC)
    assert (first["temp_c_tenths"], first["temp_f"], first["dew_f"], first["wind_mph"]) == (256, 78.0, 71.0, 0.0)
    assert json.loads(first["raw_json"])["line"].startswith("94728KNYC NYC202507010000")
    # Records without a T group keep a null temperature rather than the body's whole °C.
    no_t = [r for r in rows if r["temp_f"] is None]
    assert len(no_t) == 30 and all(" T0" not in json.loads(r["raw_json"])["line"] for r in no_t)


def test_real_6401_frame_holds_one_climate_day_in_the_observation_frame(real_data):
    text = (real_data / JULY).read_text()
    day = date(2025, 7, 10)
    window = climate_day_window(day, -5)
    frame = dsi6401_frame(
        text, city="nyc", climate_date=day, station="KNYC", std_utc_offset_hours=-5, window=window, origin=JULY
    )
    assert frame.schema == STATION_OBS_SCHEMA
    assert frame["ts"].min() >= window[0] and frame["ts"].max() < window[1]
    assert frame["ts"].is_sorted() and frame["ts"].n_unique() == frame.height
    assert set(frame["source"]) == {"ncei_5min"} and set(frame["resolution_min"]) == {5}
    assert frame["station_ok"].all() and set(frame["stations"]) == {"KNYC"}
    # Central Park's 2025-07-10: CLI high 84 °F at 1:13 PM; the 5-minute record has a hole over the peak.
    assert frame.height == 144 and frame["temp_f"].max() == 78.0


def test_6401_stamp_that_disagrees_with_its_utc_group_names_the_line(real_data):
    lines = (real_data / JULY).read_text().splitlines()[:3]
    lines[1] = lines[1].replace("010505Z", "010405Z")  # as if the stamp were daylight time
    with pytest.raises(
        PayloadError, match=r"JULY, field .DDHHMMZ.: line 2: local standard stamp 202507010005 is 010505Z.*010405Z"
    ):
        dsi6401_rows("\n".join(lines), station="KNYC", std_utc_offset_hours=-5, origin="JULY")


def test_6401_refuses_another_station_and_a_broken_line(real_data):
    lines = (real_data / JULY).read_text().splitlines()[:2]
    with pytest.raises(PayloadError, match=r"line 1: station KNYC/KNYC, expected KLGA"):
        dsi6401_rows("\n".join(lines), station="KLGA", std_utc_offset_hours=-5, origin="f")
    with pytest.raises(PayloadError, match=r"line 2: not a DSI-6401 5-minute record"):
        dsi6401_rows(lines[0] + "\n" + lines[1][:50], station="KNYC", std_utc_offset_hours=-5, origin="f")


def test_6401_negative_tenths_and_missing_dew_point():
    line = (
        "94728KNYC NYC20250115060012101/15/25 06:00:31  5-MIN KNYC 151100Z AUTO 31012G20KT 10SM CLR "
        "M08/M17 A3032 RMK AO2 T10781172 $"
    )
    (row,) = dsi6401_rows(line, station="KNYC", std_utc_offset_hours=-5, origin="f")
    assert (row["ts"], row["temp_c_tenths"], row["temp_f"], row["dew_f"]) == (
        datetime(2025, 1, 15, 11, tzinfo=UTC),
        -78,
        18.0,  # -7.8 °C = 17.96 °F
        1.0,  # -17.2 °C = 0.96 °F
    )
    assert row["wind_mph"] == pytest.approx(13.81, abs=0.01)
    (no_dew,) = dsi6401_rows(line.replace("T10781172", "T1078"), station="KNYC", std_utc_offset_hours=-5, origin="f")
    assert (no_dew["temp_f"], no_dew["dew_f"]) == (18.0, None)


def test_iem_1min_rows_read_the_documented_csv():
    rows = iem_1min_rows(IEM_1MIN, station="KNYC", origin="asos1min.py")
    assert [r["ts"] for r in rows] == [datetime(2025, 7, 1, 18, m, tzinfo=UTC) for m in (58, 59)] + [
        datetime(2025, 7, 1, 19, m, tzinfo=UTC) for m in (0, 1)
    ]
    assert [r["temp_f"] for r in rows] == [88.0, 89.0, None, 88.0]
    assert [r["wind_mph"] for r in rows] == [pytest.approx(4.6, abs=0.01), None, None, pytest.approx(5.75, abs=0.01)]
    assert json.loads(rows[1]["raw_json"]) == {
        "station": "NYC",
        "station_name": "NEW YORK CITY CENTRAL PARK",
        "valid(UTC)": "2025-07-01 18:59",
        "tmpf": "89",
        "dwpf": "66",
        "sknt": "M",
    }


def test_iem_1min_frame_keeps_the_climate_day_with_missing_values_as_nulls():
    day = date(2025, 7, 1)
    window = (datetime(2025, 7, 1, 18, 59, tzinfo=UTC), datetime(2025, 7, 1, 19, 1, tzinfo=UTC))
    frame = iem_1min_frame(IEM_1MIN, city="nyc", climate_date=day, station="KNYC", window=window, origin="x")
    assert frame.schema == STATION_OBS_SCHEMA
    assert frame.select("temp_f", "source", "resolution_min").rows() == [(89.0, "iem_1min", 1), (None, "iem_1min", 1)]
    assert frame["temp_c_tenths"].is_null().all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<html>Unknown station provided: KNYC</html>", "not an asos1min.py CSV"),
        (IEM_1MIN.replace("valid(UTC)", "valid(America/New_York)"), "stamps are in 'America/New_York'; request tz=UTC"),
        (IEM_1MIN.replace(",tmpf,", ",tmpc,"), "no tmpf column"),
        (IEM_1MIN.replace("NYC,NEW", "LGA,NEW", 1), "line 2: station 'LGA', asked for 'NYC'"),
        (IEM_1MIN.replace("19:01,88,65,5", "19:01,88"), "line 5: 4 fields, the header has 6 \\(truncated\\?\\)"),
        (IEM_1MIN.replace(",89,", ",89.5,"), "line 3: expected a whole number or M, got '89.5'"),
        (IEM_1MIN.replace("2025-07-01 18:59", "07/01/2025 18:59"), "line 3: valid '07/01/2025 18:59'"),
    ],
)
def test_iem_1min_bad_answers_are_one_line_errors(text, message):
    with pytest.raises(PayloadError, match=f"^asos1min.py.*{message}"):
        iem_1min_rows(text, station="KNYC", origin="asos1min.py")


def test_two_different_records_for_one_minute_are_an_error():
    text = IEM_1MIN + "NYC,NEW YORK CITY CENTRAL PARK,2025-07-01 18:59,90,66,M\n"
    window = (datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 7, 2, tzinfo=UTC))
    with pytest.raises(PayloadError, match="two different records for 2025-07-01T18:59:00"):
        iem_1min_frame(text, city="nyc", climate_date=date(2025, 7, 1), station="KNYC", window=window, origin="x")
    repeated = IEM_1MIN + IEM_1MIN.splitlines()[1] + "\n"
    frame = iem_1min_frame(
        repeated, city="nyc", climate_date=date(2025, 7, 1), station="KNYC", window=window, origin="x"
    )
    assert frame.height == 4 and frame.filter(pl.col("ts") == window[0] + timedelta(hours=18, minutes=58)).height == 1


def test_the_5_minute_maximum_never_exceeds_the_cli_high(real_data):
    # Both come from the same whole-°F ASOS series, so the T group read back to °F can only miss the
    # peak (a gap, a 1-minute spike between records), never exceed it. Central Park, June-August 2025.
    rows = [
        row
        for path in sorted((real_data / NCEI_DIR).glob("asos-5min-KNYC-2025*.dat"))
        for row in dsi6401_rows(path.read_text(), station="KNYC", std_utc_offset_hours=-5, origin=path.name)
    ]
    observed = (
        pl.DataFrame({"ts": [r["ts"] for r in rows], "temp_f": [r["temp_f"] for r in rows]})
        .group_by(climate_date_expr("ts", -5).alias("date"))
        .agg(pl.col("temp_f").max().alias("observed_max"))
        .drop_nulls()
    )
    cli = pl.read_csv(real_data / "daily_tmax/knyc_cli_daily_2025-06-01_to_08-31.csv", try_parse_dates=True)
    days = cli.join(observed, on="date").select("date", "official_daily_high_f", "observed_max")
    above = days.filter(pl.col("observed_max") > pl.col("official_daily_high_f"))
    below = days.filter(pl.col("observed_max") < pl.col("official_daily_high_f"))
    assert days.height == 77 and above.is_empty(), above
    assert 0 < below.height < days.height
