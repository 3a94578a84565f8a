"""Fetch NWS Daily Climate Reports (CLI), the settlement source, from api.weather.gov.

Two calls per product, as the products API is shaped:
``GET /products/types/CLI/locations/{issuedby}`` lists ``{"@graph": [{"id", "issuanceTime", ...}]}``
(the location is the CLI's 3-letter id, e.g. NYC, not the forecast office), then
``GET /products/{id}`` returns ``{"id", "issuanceTime", "productText", ...}``. The list is short
(a few days of issuances) and rejects paging parameters, so filtering by time happens here.

The raw product text is returned with its parsed summaries so the caller can store it and re-parse
later; nothing here decides settlement (see ``core.payloads.nws_cli.settlement_reports``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kalshi_wx.core.cities import City
from kalshi_wx.core.climate_day import climate_day_window
from kalshi_wx.core.errors import PayloadError
from kalshi_wx.core.payloads.nws_cli import ClimateSummary, parse_cli_product
from kalshi_wx.core.timestamps import parse_time
from kalshi_wx.sources.http import RetryPolicy, SourceClient, SourceUnavailableError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.weather.gov"
# NWS rejects requests without a User-Agent and asks for a way to contact the caller.
DEFAULT_USER_AGENT = "kalshi-wx (https://github.com/kalshi-wx)"
# Finals come out a few hours after the climate day; corrections can follow a day or so later.
REPORT_WINDOW_AFTER_DAY = timedelta(days=2)


class NwsUnavailableError(RuntimeError):
    """api.weather.gov kept failing (5xx, 429, timeouts) after the bounded retries."""


@dataclass(frozen=True)
class ProductRef:
    """One entry of the products list."""

    id: str
    issuance_time: datetime
    product_code: str | None
    issuing_office: str | None


@dataclass(frozen=True)
class RawProduct:
    """One product as served: keep ``text`` so it can be re-parsed later."""

    id: str
    issuance_time: datetime
    endpoint: str
    text: str


@dataclass(frozen=True)
class CliProduct:
    """A fetched CLI product and the summaries in it for the station and date asked for."""

    raw: RawProduct
    summaries: tuple[ClimateSummary, ...]


def _require(obj: Any, key: str, kind: type, endpoint: str, path: str) -> Any:
    if not isinstance(obj, dict):
        raise PayloadError(endpoint, f"expected a JSON object around it, got {obj!r:.80}", field=f"{path}{key}")
    if key not in obj:
        raise PayloadError(endpoint, "missing", field=f"{path}{key}")
    value = obj[key]
    if not isinstance(value, kind):
        raise PayloadError(endpoint, f"expected {kind.__name__}, got {value!r:.80}", field=f"{path}{key}")
    return value


def _require_time(obj: Any, key: str, endpoint: str, path: str) -> datetime:
    value = parse_time(_require(obj, key, str, endpoint, path), source=endpoint, field=f"{path}{key}")
    if value is None:  # parse_time reads "" as no time
        raise PayloadError(endpoint, "empty", field=f"{path}{key}")
    return value


def city_summaries(parsed: list[ClimateSummary], city: City, source: str) -> list[ClimateSummary]:
    """The summaries of a product that belong to the city's station (CLI products may hold several)."""
    wanted = " ".join(city.station_name.upper().split())
    named = [s for s in parsed if " ".join(s.station.upper().split()) == wanted]
    if not named and len(parsed) == 1:
        # Offices word the site name their own way; a one-station product is that station.
        named = parsed
    if not named:
        raise PayloadError(
            source,
            f"none of the summaries {[s.station for s in parsed]} is {city.station_name!r}",
            field="CLIMATE SUMMARY",
        )
    return named


class NwsClient(SourceClient):
    """Synchronous api.weather.gov client for CLI products, with bounded retries."""

    source = "nws"
    _log = log

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 10.0,
        user_agent: str = DEFAULT_USER_AGENT,
        *,
        max_attempts: int = 3,
        backoff_seconds: float = 1.0,
    ):
        super().__init__(
            base_url or os.environ.get("NWS_API_BASE") or DEFAULT_BASE_URL,
            timeout_s=timeout,
            headers={"User-Agent": user_agent, "Accept": "application/ld+json"},
            retry=RetryPolicy(max_attempts=max_attempts, base_delay_s=backoff_seconds),
            follow_redirects=True,
        )

    def _get_json(self, path: str) -> tuple[str, Any]:
        endpoint = f"{self.base_url}{path}"
        try:
            response, document = self._send_json(lambda: self._http.get(endpoint), f"GET {path}")
        except SourceUnavailableError as exc:
            raise NwsUnavailableError(f"{endpoint}: gave up after {exc.attempts} attempts; {exc}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise NwsUnavailableError(
                f"{endpoint}: gave up after {self._retry.max_attempts} attempts; last error HTTP {response.status_code}"
            )
        if response.is_error:
            raise PayloadError(endpoint, f"HTTP {response.status_code}: {response.text[:200]!r}")
        return endpoint, document

    def list_cli_products(self, issuedby: str, since: datetime | None = None) -> list[ProductRef]:
        """CLI products listed for a 3-letter CLI id, oldest first, optionally only those issued >= since."""
        endpoint, payload = self._get_json(f"/products/types/CLI/locations/{issuedby}")
        graph = _require(payload, "@graph", list, endpoint, "")
        refs = []
        for index, item in enumerate(graph):
            path = f"@graph[{index}]."
            ref = ProductRef(
                id=_require(item, "id", str, endpoint, path),
                issuance_time=_require_time(item, "issuanceTime", endpoint, path),
                product_code=item.get("productCode"),
                issuing_office=item.get("issuingOffice"),
            )
            if since is None or ref.issuance_time >= since:
                refs.append(ref)
        return sorted(refs, key=lambda ref: ref.issuance_time)

    def fetch_product(self, product_id: str) -> RawProduct:
        endpoint, payload = self._get_json(f"/products/{product_id}")
        served_id = _require(payload, "id", str, endpoint, "")
        if served_id != product_id:
            raise PayloadError(endpoint, f"asked for product {product_id!r}, got {served_id!r}", field="id")
        return RawProduct(
            id=product_id,
            issuance_time=_require_time(payload, "issuanceTime", endpoint, ""),
            endpoint=endpoint,
            text=_require(payload, "productText", str, endpoint, ""),
        )

    def fetch_cli_products(self, city: City, climate_date: date) -> list[CliProduct]:
        """Every listed CLI product of the city issued from the start of the climate day to two days
        after it, with its summaries for that station and date (possibly none, e.g. yesterday's final)."""
        day_start, day_end = climate_day_window(climate_date, city.std_utc_offset_hours)
        products = []
        for ref in self.list_cli_products(city.issuedby, since=day_start):
            if ref.issuance_time >= day_end + REPORT_WINDOW_AFTER_DAY:
                continue
            raw = self.fetch_product(ref.id)
            named = city_summaries(parse_cli_product(raw.text, source=raw.endpoint), city, raw.endpoint)
            summaries = tuple(
                # The API's issuanceTime is machine-stamped; the printed issuance line is typed by the
                # office and can be off (a real Pago Pago product is 91 minutes from its header).
                dataclasses.replace(s, product_id=raw.id, issued_at=raw.issuance_time)
                for s in named
                if s.climate_date == climate_date
            )
            products.append(CliProduct(raw, summaries))
        return products

    def fetch_cli_summaries(self, city: City, climate_date: date) -> list[ClimateSummary]:
        """The city's CLI summaries for one climate date; use fetch_cli_products to keep raw text."""
        return [s for product in self.fetch_cli_products(city, climate_date) for s in product.summaries]
