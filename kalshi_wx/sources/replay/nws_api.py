"""Recorded api.weather.gov products served at the products API's paths.

``GET /products/types/CLI/locations/{issuedby}`` lists the recorded products whose AWIPS id is
``CLI{issuedby}``, newest first; ``GET /products/{id}`` serves one as recorded.
"""

from __future__ import annotations

import re
from typing import Any

from kalshi_wx.sources.loopback import Request, Response
from kalshi_wx.sources.replay.layout import ReplayDir
from kalshi_wx.sources.sim.nws_api import not_found_problem

PREFIX = "/nws"
_CONTEXT = {"@version": "1.1", "@vocab": "https://api.weather.gov/ontology#"}


def _listing(replay: ReplayDir, issuedby: str, base_url: str) -> dict[str, Any]:
    awips = re.compile(rf"^CLI{re.escape(issuedby)}\s*$", re.MULTILINE)
    graph = []
    for path in replay.files("nws", "products", suffix=".json"):
        product = replay.json(path)
        if awips.search(product.get("productText", "")[:200]):
            fields = {k: v for k, v in product.items() if k not in ("productText", "@context")}
            graph.append({"@id": f"{base_url}/products/{product['id']}", **fields})
    graph.sort(key=lambda p: p.get("issuanceTime", ""), reverse=True)
    return {"@context": _CONTEXT, "@graph": graph}


def serve(replay: ReplayDir, req: Request, path: str, base_url: str) -> Response:
    if match := re.fullmatch(r"/products/types/CLI/locations/([A-Za-z0-9]+)", path):
        return Response.json(_listing(replay, match[1].upper(), base_url))
    if match := re.fullmatch(r"/products/([^/]+)", path):
        file = replay.file("nws", "products", f"{match[1]}.json")
        if file is None:
            return not_found_problem(f"Product {match[1]} not found")
        return Response(200, file.read_bytes(), {"Content-Type": "application/ld+json"})
    return not_found_problem(f"no route for {req.method} {PREFIX}{path}")
