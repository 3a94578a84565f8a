"""The simulator's api.weather.gov CLI products over real HTTP: listings, finals and preliminaries."""

from __future__ import annotations

import re
from datetime import date, timedelta

from kalshi_wx.sources.sim.weather import simulate_weather
from kalshi_wx_tests.sources.sim.conftest import ok


def _cli_max(text: str) -> int:
    return int(re.search(r"^\s+MAXIMUM\s+(\d+)", text, re.MULTILINE)[1])


def test_nws_lists_a_preliminary_and_a_final_per_day_and_serves_the_text(http, sim, sim_config):
    listing = ok(http.get(f"{sim.nws_base_url}/products/types/CLI/locations/NYC"))["@graph"]
    times = [p["issuanceTime"] for p in listing]
    assert times == sorted(times, reverse=True) and all(t <= "2026-06-10T12:00:00" for t in times)
    city = sim_config.city("nyc")
    weather = simulate_weather(sim_config.seed, city, date(2026, 6, 1))
    window = (
        (weather.start + timedelta(hours=12)).isoformat(),
        (weather.end + timedelta(hours=12)).isoformat(),
    )
    for_day = [p for p in listing if window[0] <= p["issuanceTime"] < window[1]]
    assert len(for_day) == 2
    final, preliminary = for_day
    for entry in for_day:
        assert entry["productCode"] == "CLI" and entry["issuingOffice"] == f"K{city.wfo}"
        assert entry["wmoCollectiveId"] == "CDUS41" and entry["@id"].endswith(entry["id"])
    final_doc = ok(http.get(f"{sim.nws_base_url}/products/{final['id']}"))
    assert final_doc["id"] == final["id"] and _cli_max(final_doc["productText"]) == weather.cli_max_f
    assert "YESTERDAY" in final_doc["productText"]
    prelim_doc = ok(http.get(f"{sim.nws_base_url}/products/{preliminary['id']}"))
    assert "VALID TODAY AS OF" in prelim_doc["productText"]
    assert _cli_max(prelim_doc["productText"]) <= weather.cli_max_f
    missing = http.get(f"{sim.nws_base_url}/products/not-a-product")
    assert missing.status_code == 404 and missing.json()["status"] == 404
