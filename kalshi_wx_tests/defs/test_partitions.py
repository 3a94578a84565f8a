from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from kalshi_wx.defs.partitions import city_and_date, city_date_key, city_date_partitions


def test_key_string_orders_dimensions_by_name():
    key = city_date_key("nyc", date(2026, 6, 1))
    assert str(key) == "nyc|2026-06-01"
    assert "nyc|2026-06-01" in city_date_partitions.get_partition_keys()


def test_city_and_date_accepts_both_key_forms():
    expected = ("nyc", date(2026, 6, 1))
    assert city_and_date(dg.MultiPartitionKey({"city": "nyc", "date": "2026-06-01"})) == expected
    # Runs launched by the dagster/partition tag get a plain str.
    assert city_and_date("nyc|2026-06-01") == expected


@pytest.mark.parametrize("bad", ["2026-06-01|nyc", "bos|2026-06-01", "nyc", "nyc|June 1"])
def test_malformed_keys_are_explained(bad):
    with pytest.raises(ValueError, match=r"city\|YYYY-MM-DD|unknown city"):
        city_and_date(bad)
