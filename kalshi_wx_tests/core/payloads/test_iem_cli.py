"""IEM's CLI archive: daily values JSON, raw products from retrieve.py, product ids."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.iem_cli import (
    afos_products,
    iem_cli_days,
    iem_cli_summary,
    product_id_of,
    product_time,
)
from kalshi_wx.core.payloads.nws_cli import parse_cli_product, settlement_reports
from kalshi_wx_tests.conftest import TEST_DATA

CLINYC = (TEST_DATA / "nws_cli" / "pyiem" / "CLINYC.txt").read_text()


def _day(valid: str, high: object, product: str | None, **extra: object) -> dict:
    """One ``results`` entry with the field names IEM's json/cli.py writes (reference s4)."""
    return {
        "station": "KNYC",
        "valid": valid,
        "state": "NY",
        "wfo": "OKX",
        "link": f"/api/1/nwstext/{product}",
        "product": product,
        "name": "NEW YORK CITY",
        "high": high,
        "high_time": "125 PM",
        "high_normal": 76,
        "low": 50,
        "low_time": "445 AM",
        "precip": 0.0,
        "snow": "M",
        **extra,
    }


def test_daily_values_parse_with_missing_highs_and_product_ids():
    # Values of the first rows of daily_tmax/knyc_cli_daily_2025-06-01_to_08-31.csv (IEM ids, highs).
    doc = {
        "generated_at": "2025-09-01T00:00:00Z",
        "results": [
            _day("2025-06-04", 83, "202506050617-KOKX-CDUS41-CLINYC", high_time="103 PM"),
            _day("2025-06-01", 66, "202506020617-KOKX-CDUS41-CLINYC"),
            _day("2025-06-02", "M", "202506030615-KOKX-CDUS41-CLINYC-CCA", high_time=""),
        ],
    }
    days = iem_cli_days(doc, station="KNYC", origin="cli.py")
    assert [(d.climate_date, d.max_f, d.max_time, d.product_id) for d in days] == [
        (date(2025, 6, 1), 66, "125 PM", "202506020617-KOKX-CDUS41-CLINYC"),
        (date(2025, 6, 2), None, None, "202506030615-KOKX-CDUS41-CLINYC-CCA"),
        (date(2025, 6, 4), 83, "103 PM", "202506050617-KOKX-CDUS41-CLINYC"),
    ]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"data": []}, "expected an object with a 'results' list"),
        ({"results": [_day("2025-06-01", 66, "p")]}, r"results\[0\]: product 'p' is not an IEM product id"),
        ({"results": [_day("2025-06-01", "66", None)]}, r"results\[0\].high.*expected a whole °F or 'M', got '66'"),
        ({"results": [_day("June 1", 66, None)]}, r"results\[0\]: valid 'June 1' is not a date"),
        ({"results": [{**_day("2025-06-01", 66, None), "station": "KLGA"}]}, "station 'KLGA', asked for 'KNYC'"),
    ],
)
def test_daily_values_errors_name_the_entry(doc, message):
    with pytest.raises(PayloadError, match=message):
        iem_cli_days(doc, station="KNYC", origin="cli.py")


def test_daily_value_as_a_report_knows_only_what_its_product_id_says():
    window = climate_day_window(date(2025, 6, 1), -5)
    (final, corrected, prelim) = (
        iem_cli_days({"results": [_day("2025-06-01", 66, product)]}, station="KNYC", origin="j")[0]
        for product in (
            "202506020617-KOKX-CDUS41-CLINYC",
            "202506021410-KOKX-CDUS41-CLINYC-CCA",
            "202506012132-KOKX-CDUS41-CLINYC",  # 4:32 PM EST, before the day ended
        )
    )
    summary = iem_cli_summary(final, station_name="NEW YORK CITY", issuedby="NYC", day_end=window[1], origin="j")
    assert (summary.report_type, summary.issued_at, summary.max_f) == (
        "final",
        datetime(2025, 6, 2, 6, 17, tzinfo=UTC),
        66,
    )
    kinds = [
        iem_cli_summary(d, station_name="N", issuedby="NYC", day_end=window[1], origin="j").report_type
        for d in (corrected, prelim)
    ]
    assert kinds == ["correction", "preliminary"]
    assert settlement_reports([summary], date(2025, 6, 1)).settled is summary


def test_retrieve_answers_split_into_products_and_an_empty_window_is_no_products():
    wrapped = f"\x01\n{CLINYC.strip()}\n\x03\n\x01\n{CLINYC.strip()}\n\x03\n"
    products = afos_products(wrapped, origin="retrieve.py")
    assert len(products) == 2 and products[0] == CLINYC.strip()
    assert parse_cli_product(products[1], source="x")[0].max_f == 33
    assert afos_products("ERROR: Could not Find: CLINYC", origin="retrieve.py") == []
    assert afos_products("", origin="retrieve.py") == []
    with pytest.raises(PayloadError, match=r"retrieve.py: product 2 has no closing \\x03 \(truncated answer\?\)"):
        afos_products(wrapped[:-40], origin="retrieve.py")
    with pytest.raises(PayloadError, match="expected products wrapped"):
        afos_products("<html>503 Service Unavailable</html>", origin="retrieve.py")


def test_product_ids_come_from_the_wmo_heading_and_awips_line():
    # CLINYC.txt: "CDUS41 KOKX 030616" / "CLINYC", issued 116 AM EST THU JAN 3 2013.
    issued = datetime(2013, 1, 3, 6, 16, tzinfo=UTC)
    assert product_id_of(CLINYC, issued_near=issued, origin="x") == "201301030616-KOKX-CDUS41-CLINYC"
    # The heading gives only the day: the month is the one closest to the hint, across a month end.
    assert product_id_of(CLINYC, issued_near=datetime(2013, 1, 1, tzinfo=UTC), origin="x").startswith("201301030616")
    est = (TEST_DATA / "nws_cli" / "pyiem" / "CLIEST.txt").read_text()
    assert product_id_of(est, issued_near=datetime(2014, 10, 13, tzinfo=UTC), origin="x") == (
        "201410130647-KDMX-CDUS43-CLIEST-RRA"
    )
    assert product_time("201410130647-KDMX-CDUS43-CLIEST-RRA") == datetime(2014, 10, 13, 6, 47, tzinfo=UTC)
    with pytest.raises(PayloadError, match="WMO heading time 030616 is"):
        product_id_of(CLINYC, issued_near=datetime(2013, 2, 20, tzinfo=UTC), origin="x")
    with pytest.raises(PayloadError, match="no WMO heading"):
        product_id_of("CLIMATE REPORT\nNATIONAL WEATHER SERVICE", issued_near=issued, origin="x")
    with pytest.raises(ValueError, match="not an IEM product id"):
        product_time("2013-01-03-KOKX")
