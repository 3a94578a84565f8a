"""IEM's MOS/NBM archive CSV to the forecast frame: the run issued before the day, nothing later.

No real MOS answer is in the shared data. The layout below follows IEM's ``/cgi-bin/request/mos.py``
(``runtime``, ``ftime`` in UTC first, then the ``alldata`` columns of ``init/mos.sql``, all-empty
columns dropped, whole numbers printed as ``78.0`` when their column has a gap); the numbers are made up.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.forecasts import FORECAST_SCHEMA
from kalshi_wx.core.payloads.iem_mos import latest_run_before, mos_forecast_frame, mos_rows

DAY = date(2025, 7, 10)
WINDOW = climate_day_window(DAY, -5)  # 05Z to 05Z
HEADER = "runtime,ftime,station,model,tmp,dpt,sky,wdr,wsp,gst,p06,p12,q06,q12,t03,cig,vis,lcb,txn,t06,t12"


def _row(runtime: datetime, ftime: datetime, tmp: str, station: str = "KNYC", model: str = "NBS") -> str:
    rest = "66.0,40.0,23.0,8.0,,,,,,,,,,,/,/"
    return f"{runtime:%Y-%m-%d %H:%M:%S},{ftime:%Y-%m-%d %H:%M:%S},{station},{model},{tmp},{rest}"


RUN, STEP = datetime(2025, 7, 9, tzinfo=UTC), datetime(2025, 7, 9, 3, tzinfo=UTC)


def _answer(*runs: datetime) -> str:
    lines = [HEADER]
    for run in runs:
        for step in range(3, 49, 3):  # NBS: 3-hourly
            ftime = run + timedelta(hours=step)
            lines.append(_row(run, ftime, f"{70 + (ftime.hour // 3) % 6}.0"))
    return "\n".join(lines) + "\n"


def test_the_latest_run_published_by_the_days_start_is_the_baseline():
    # 13Z and 19Z the day before, and 01Z and 07Z of the day; NBS text is out about 1-2 h after its cycle.
    runs = [datetime(2025, 7, 9, 13, tzinfo=UTC), datetime(2025, 7, 9, 19, tzinfo=UTC)]
    runs += [datetime(2025, 7, 10, 1, tzinfo=UTC), datetime(2025, 7, 10, 7, tzinfo=UTC)]
    text = _answer(*runs)
    frame = mos_forecast_frame(
        text,
        city="nyc",
        climate_date=DAY,
        station="KNYC",
        model="NBS",
        window=WINDOW,
        publication_delay=timedelta(hours=2),
        origin="mos.py",
    )
    assert frame.schema == FORECAST_SCHEMA
    assert set(frame["runtime"]) == {datetime(2025, 7, 10, 1, tzinfo=UTC)}  # 01Z + 2 h = 03Z <= 05Z
    assert set(frame["issued_at"]) == {datetime(2025, 7, 10, 3, tzinfo=UTC)}
    assert (frame["issued_at"] <= WINDOW[0]).all()
    # 3-hourly from 04Z (the last point before the day) to 07Z the next day (the first after it).
    assert frame["ts"].to_list() == [datetime(2025, 7, 10, 4, tzinfo=UTC) + timedelta(hours=3 * k) for k in range(10)]
    assert set(frame["source"]) == {"iem_mos"} and set(frame["model"]) == {"NBS"}
    assert json.loads(frame["raw_json"][0])["tmp"] == "71.0" and frame["temp_f"][0] == 71.0

    later_delay = mos_forecast_frame(
        text, city="nyc", climate_date=DAY, station="KNYC", model="NBS", window=WINDOW,
        publication_delay=timedelta(hours=5), origin="mos.py",
    )  # fmt: skip
    assert set(later_delay["runtime"]) == {datetime(2025, 7, 9, 19, tzinfo=UTC)}


def test_no_run_out_in_time_is_an_empty_frame():
    text = _answer(datetime(2025, 7, 10, 7, tzinfo=UTC))
    frame = mos_forecast_frame(
        text, city="nyc", climate_date=DAY, station="KNYC", model="NBS", window=WINDOW,
        publication_delay=timedelta(hours=1), origin="mos.py",
    )  # fmt: skip
    assert frame.is_empty() and frame.schema == FORECAST_SCHEMA
    assert latest_run_before(set(), WINDOW[0], timedelta(0)) is None


def test_gfs_is_answered_under_its_archive_name_and_missing_temperatures_are_skipped():
    run = datetime(2025, 7, 9, 18, tzinfo=UTC)
    text = "\n".join(
        [
            HEADER,
            _row(run, run + timedelta(hours=6), "", model="AVN"),
            _row(run, run + timedelta(hours=9), "77", model="AVN"),
        ]
    )
    rows = mos_rows(text, station="KNYC", model="GFS", origin="mos.py")
    assert [(r.ftime.hour, r.temp_f) for r in rows] == [(0, None), (3, 77.0)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty answer: no CSV header"),
        ("station,valid,tmpf\nNYC,2025-07-01 00:00,70\n", r"header lacks \['runtime', 'ftime', 'model', 'tmp'\]"),
        (HEADER + "\n" + _row(RUN, STEP, "70", station="KLGA"), "line 2: station 'KLGA'"),
        (HEADER + "\n" + _row(RUN, STEP, "70", model="LAV"), "line 2: model 'LAV', asked for 'NBS'"),
        (HEADER + "\n" + _row(RUN, STEP, "70.5"), "line 2: tmp '70.5' is not a whole °F"),
        (HEADER + "\n2025-07-09 00:00:00,2025-07-09 03:00:00,KNYC", r"line 2: 3 fields, the header has 21"),
        (HEADER + "\n" + _row(RUN, STEP, "70").replace("2025-07-09 03", "07/09/2025 03"), "line 2: ftime"),
    ],
)  # fmt: skip
def test_bad_answers_name_the_line_and_field(text, message):
    with pytest.raises(PayloadError, match=f"^mos.py.*{message}"):
        mos_rows(text, station="KNYC", model="NBS", origin="mos.py")
