"""A fake of api.weather.gov's CLI product endpoints: a real loopback handler with scripted responses."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from kalshi_wx.sources.loopback import Request, Response
from kalshi_wx_tests.conftest import TEST_DATA

CLI_DIR = TEST_DATA / "nws_cli" / "pyiem"


class FakeNwsApi:
    """The two products endpoints, plus scripted responses that are served first for a path."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.listed: dict[str, list[tuple[str, datetime, str]]] = {}  # location -> (id, issued, text)
        self.scripted: dict[str, list[Response]] = {}
        self.requests: list[Request] = []

    def add(self, location: str, file_name: str, issued: datetime) -> str:
        """List a real product from the test data under ``location`` (e.g. ``NYC``); its id."""
        return self.add_text(location, (CLI_DIR / file_name).read_text(), issued, name=file_name)

    def add_text(self, location: str, text: str, issued: datetime, *, name: str = "") -> str:
        product_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{location}/{name or hash(text)}@{issued.isoformat()}"))
        self.listed.setdefault(location, []).append((product_id, issued, text))
        return product_id

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        if scripted := self.scripted.get(request.path):
            return scripted.pop(0)
        if match := re.fullmatch(r"/products/types/CLI/locations/([A-Z0-9]{3})", request.path):
            graph = [
                {
                    "@id": f"https://api.weather.gov/products/{product_id}",
                    "id": product_id,
                    "wmoCollectiveId": "CDUS41",
                    "issuingOffice": "KILN",
                    "issuanceTime": issued.isoformat(),
                    "productCode": "CLI",
                    "productName": "Climatological Report (Daily)",
                }
                for product_id, issued, _ in self.listed.get(match[1], [])
            ]
            return Response.json({"@context": {"@version": "1.1"}, "@graph": graph})
        if match := re.fullmatch(r"/products/([0-9a-f-]+)", request.path):
            for product_id, issued, text in (p for products in self.listed.values() for p in products):
                if product_id == match[1]:
                    return Response.json(
                        {
                            "@id": f"https://api.weather.gov/products/{product_id}",
                            "id": product_id,
                            "issuanceTime": issued.isoformat(),
                            "productCode": "CLI",
                            "productText": text,
                        }
                    )
        return Response.json({"title": "Not Found", "status": 404, "detail": request.path}, status=404)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]
