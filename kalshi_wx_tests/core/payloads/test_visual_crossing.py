"""Visual Crossing days -> hours -> minutes to audited rows and the observation frame."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

import pytest

from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.observations import STATION_OBS_SCHEMA
from kalshi_wx.core.payloads.visual_crossing import vc_minutes_rows, vc_obs_frame

REAL_VC = [
    "visual_crossing/vc_timeline_florianopolis_obs_2022-02-01_06_UNATTRIBUTED.json",
    "visual_crossing/vc_timeline_knoxville_minimal_elements_2021-06-29.json",
]
T0 = 1780318800  # 2026-06-01T13:00:00Z


def _doc() -> dict:
    """Documented field names (reference s11); minutes nest under hours under days."""
    return {
        "queryCost": 4,
        "days": [
            {
                "datetime": "2026-06-01",
                "datetimeEpoch": 1780272000,
                "stations": ["KNYC"],
                "source": "obs",
                "hours": [
                    {
                        "datetime": "13:00:00",
                        "datetimeEpoch": T0,
                        "minutes": [
                            {
                                "datetime": "13:00:00",
                                "datetimeEpoch": T0,
                                "temp": 81.0,
                                "dew": 60.1,
                                "humidity": 48.2,
                                "windspeed": 7.0,
                            },
                            {"datetime": "13:05:00", "datetimeEpoch": T0 + 300, "temp": 81},
                            {
                                "datetime": "13:10:00",
                                "datetimeEpoch": T0 + 600,
                                "temp": 82.0,
                                "stations": ["KLGA"],
                                "source": "obs",
                            },
                        ],
                    },
                    {
                        "datetime": "14:00:00",
                        "datetimeEpoch": T0 + 3600,
                        "stations": ["KNYC", "KLGA"],
                        "source": "comb",
                        "minutes": [{"datetime": "14:00:00", "datetimeEpoch": T0 + 3600, "temp": 83.5}],
                    },
                ],
            }
        ],
    }


def test_rows_inherit_stations_and_flag_other_stations():
    rows = vc_minutes_rows(_doc(), station="KNYC", source="test")
    assert [r["ts"] for r in rows] == [datetime.fromtimestamp(T0 + s, UTC) for s in (0, 300, 600, 3600)]
    assert rows[0] == {
        "ts": datetime(2026, 6, 1, 13, 0, tzinfo=UTC),
        "temp_f": 81.0,
        "dew_f": 60.1,
        "humidity": 48.2,
        "wind_mph": 7.0,
        "stations": ["KNYC"],
        "vc_source": "obs",
        "station_ok": True,
        "raw_json": json.dumps(_doc()["days"][0]["hours"][0]["minutes"][0], sort_keys=True),
    }
    assert rows[1]["dew_f"] is None and rows[1]["temp_f"] == 81.0 and rows[1]["station_ok"]  # day's stations
    assert (rows[2]["stations"], rows[2]["station_ok"]) == (["KLGA"], False)  # its own, from another station
    assert (rows[3]["stations"], rows[3]["vc_source"], rows[3]["station_ok"]) == (
        ["KNYC", "KLGA"],
        "comb",
        False,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("temp", None, "missing or null"),
        ("temp", "81.0", "expected a number"),
        ("temp", True, "expected a number"),
        ("datetimeEpoch", None, "missing or null"),
        ("windspeed", "calm", "expected a number"),
    ],
)
def test_bad_fields_name_the_field_day_and_hour(field, value, message):
    doc = _doc()
    minute = doc["days"][0]["hours"][1]["minutes"][0]
    if value is None:
        del minute[field]
    else:
        minute[field] = value
    with pytest.raises(PayloadError, match=message) as err:
        vc_minutes_rows(doc, station="KNYC", source="vc GET stn:KNYC/2026-06-01/2026-06-01")
    assert err.value.field == field
    assert "day 2026-06-01 hour 14:00:00 minute 14:00:00" in str(err.value)
    assert str(err.value).startswith("vc GET stn:KNYC/2026-06-01/2026-06-01")


def test_structural_errors():
    with pytest.raises(PayloadError) as err:
        vc_minutes_rows({"queryCost": 0}, station="KNYC", source="s")
    assert err.value.field == "days"
    doc = _doc()
    doc["days"][0]["hours"][0]["stations"] = "KNYC"
    with pytest.raises(PayloadError, match="hour 13:00:00: expected a list of station ids"):
        vc_minutes_rows(doc, station="KNYC", source="s")
    doc = _doc()
    doc["days"][0]["hours"] = {"13": {}}
    with pytest.raises(PayloadError, match="day 2026-06-01: expected a list"):
        vc_minutes_rows(doc, station="KNYC", source="s")


@pytest.mark.parametrize("name", REAL_VC)
def test_real_timeline_documents_have_no_minutes(real_data, name):
    doc = json.loads((real_data / name).read_text())
    assert vc_minutes_rows(doc, station="SBFL", source=name) == []


def test_real_day_stations_are_inherited_and_a_two_station_blend_is_flagged(real_data):
    # The real Florianopolis day blends two stations; a minute under it inherits and is flagged.
    doc = copy.deepcopy(json.loads((real_data / REAL_VC[0]).read_text()))
    day = doc["days"][0]
    day["hours"] = [{"datetime": "00:00:00", "minutes": [{"datetimeEpoch": day["datetimeEpoch"], "temp": 25.1}]}]
    (row,) = vc_minutes_rows(doc, station="SBFL", source=REAL_VC[0])
    assert row["stations"] == ["SBFL", "83899099999"] and not row["station_ok"]
    assert row["vc_source"] == "obs" and row["ts"] == datetime(2022, 2, 1, 3, 0, tzinfo=UTC)


def test_frame_keeps_the_climate_day_window_and_drops_only_exact_repeats():
    doc = _doc()
    hour = doc["days"][0]["hours"][0]
    hour["minutes"].append(dict(hour["minutes"][1]))  # an exact repeat of 13:05
    window = (datetime.fromtimestamp(T0 + 300, UTC), datetime.fromtimestamp(T0 + 3600, UTC))
    frame = vc_obs_frame(doc, city="nyc", climate_date=date(2026, 6, 1), station="KNYC", window=window, source="s")
    assert frame.schema == STATION_OBS_SCHEMA
    assert set(frame["source"]) == {"visual_crossing"} and set(frame["resolution_min"]) == {5}
    assert frame["ts"].to_list() == [datetime.fromtimestamp(T0 + s, UTC) for s in (300, 600)]  # 14:00 is outside
    assert frame["stations"].to_list() == ["KNYC", "KLGA"] and frame["station_ok"].to_list() == [True, False]
    assert frame["city"].unique().to_list() == ["nyc"]

    hour["minutes"][-1]["temp"] = 99.0  # now it contradicts the first 13:05 row
    with pytest.raises(PayloadError, match="two different records"):
        vc_obs_frame(doc, city="nyc", climate_date=date(2026, 6, 1), station="KNYC", window=window, source="s")
    empty = vc_obs_frame(
        {"days": []}, city="nyc", climate_date=date(2026, 6, 1), station="KNYC", window=window, source="s"
    )
    assert empty.is_empty() and empty.schema == STATION_OBS_SCHEMA
