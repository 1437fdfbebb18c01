"""Which Binance REST endpoints are public, API-key-only or signed.

Why this exists
---------------
pybotters signed every request to a Binance host, so a public market-data call
made with credentials loaded gained ``timestamp`` and ``signature`` parameters,
and pybotters' documentation had to tell Binance Spot users to pass
``auth=None`` on public endpoints to avoid the errors. Binance states the security
type of each endpoint next to its name, and the type decides what a request
needs:

* **NONE** ("public market data"): the request is sent unchanged, with no
  key and no signature, exactly as an anonymous call.
* **MARKET_DATA** and **USER_STREAM** (listenKey management; "requires a valid
  API-Key"): the ``X-MBX-APIKEY`` header only.
* **TRADE**, **USER_DATA**, **MARGIN** and the other SIGNED types ("requires a
  valid API-Key and signature"): ``X-MBX-APIKEY``, ``timestamp`` and
  ``signature``.

Sources (Binance prints the security type next to each endpoint's name; no
type means NONE):

* Spot ``/api/v3``:
  https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security,
  https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints,
  https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
* USDⓈ-M ``/fapi`` and ``/futures/data``:
  https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info,
  https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api
* COIN-M ``/dapi``:
  https://developers.binance.com/docs/derivatives/coin-margined-futures/general-info
* Portfolio margin ``/papi``:
  https://developers.binance.com/docs/derivatives/portfolio-margin/general-info
* Options ``/eapi``: https://developers.binance.com/docs/derivatives/option/general-info
* Wallet/margin ``/sapi``: only ``GET /sapi/v1/system/status`` (NONE) and the
  user-data-stream endpoints are listed; the MARKET_DATA margin endpoints stay
  signed, as in pybotters, because their type has changed over time.

The rule, in order:

1. A path listed as NONE for its API family, or under ``/futures/data/``, is
   public.
2. A path listed as MARKET_DATA, or whose last segment is ``userDataStream``,
   ``listenKey`` or ``listen-key`` (every Binance family names its USER_STREAM
   endpoints so), or ``/sapi/v1/userDataStream/isolated``, needs the API key
   only.
3. Everything else is signed. That is what pybotters did for every path, so an
   endpoint missing from the tables behaves exactly as it did there; the tables
   only list endpoints whose type is certain. Where Binance moved an endpoint
   between NONE and MARKET_DATA (spot ``historicalTrades``), it is listed as
   API-key-only, which both types accept.

A trailing ``/`` is ignored. The table matches the path only, never the host, so
the testnets (same paths) follow the same rule.
"""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

__all__ = ["EndpointSecurity", "endpoint_security"]

EndpointSecurity: TypeAlias = Literal["NONE", "API_KEY", "SIGNED"]
"""What a request needs: nothing, the ``X-MBX-APIKEY`` header, or a full signature."""

# API family prefix -> (NONE endpoints, MARKET_DATA endpoints), as paths after the prefix.
_FAMILIES: Final[dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    "/api/v3/": (
        frozenset(
            {
                "ping",
                "time",
                "exchangeInfo",
                "depth",
                "trades",
                "aggTrades",
                "klines",
                "uiKlines",
                "avgPrice",
                "ticker/24hr",
                "ticker/tradingDay",
                "ticker/price",
                "ticker/bookTicker",
                "ticker",
                "executionRules",
                "referencePrice",
                "referencePrice/calculation",
            }
        ),
        # MARKET_DATA in older docs, NONE in newer ones: the key is accepted by both.
        frozenset({"historicalTrades"}),
    ),
    "/sapi/v1/": (frozenset({"system/status"}), frozenset()),
    "/fapi/v1/": (
        frozenset(
            {
                "ping",
                "time",
                "exchangeInfo",
                "depth",
                "trades",
                "aggTrades",
                "klines",
                "continuousKlines",
                "indexPriceKlines",
                "markPriceKlines",
                "premiumIndexKlines",
                "premiumIndex",
                "fundingRate",
                "fundingInfo",
                "ticker/24hr",
                "ticker/price",
                "ticker/bookTicker",
                "openInterest",
                "indexInfo",
                "assetIndex",
                "constituents",
                "lvtKlines",
                "insuranceBalance",
            }
        ),
        frozenset({"historicalTrades"}),
    ),
    "/fapi/v2/": (frozenset({"ticker/price"}), frozenset()),
    "/dapi/v1/": (
        frozenset(
            {
                "ping",
                "time",
                "exchangeInfo",
                "depth",
                "trades",
                "aggTrades",
                "premiumIndex",
                "fundingRate",
                "fundingInfo",
                "klines",
                "continuousKlines",
                "indexPriceKlines",
                "markPriceKlines",
                "premiumIndexKlines",
                "ticker/24hr",
                "ticker/price",
                "ticker/bookTicker",
                "openInterest",
                "constituents",
            }
        ),
        frozenset({"historicalTrades"}),
    ),
    "/papi/v1/": (frozenset({"ping"}), frozenset()),
    "/eapi/v1/": (
        frozenset(
            {
                "ping",
                "time",
                "exchangeInfo",
                "index",
                "ticker",
                "mark",
                "depth",
                "klines",
                "trades",
                "exerciseHistory",
                "openInterest",
                "blockTrades",
            }
        ),
        frozenset({"historicalTrades"}),
    ),
}

_PUBLIC_PREFIXES: Final = ("/futures/data/",)
_USER_STREAM_SEGMENTS: Final = frozenset({"userDataStream", "listenKey", "listen-key"})
_USER_STREAM_PATHS: Final = frozenset({"/sapi/v1/userDataStream/isolated"})


def endpoint_security(path: str) -> EndpointSecurity:
    """What a request to ``path`` needs, from Binance's documented security types.

    Args:
        path: The URL path as sent (``"/api/v3/depth"``), without host or query.

    Returns:
        ``"NONE"`` for public endpoints, ``"API_KEY"`` for MARKET_DATA and
        USER_STREAM endpoints, ``"SIGNED"`` for everything else.

    >>> endpoint_security("/api/v3/depth"), endpoint_security("/fapi/v1/listenKey")
    ('NONE', 'API_KEY')
    >>> endpoint_security("/api/v3/order")
    'SIGNED'
    """
    if len(path) > 1:
        path = path.rstrip("/")
    if path.startswith(_PUBLIC_PREFIXES):
        return "NONE"
    if path.rpartition("/")[2] in _USER_STREAM_SEGMENTS or path in _USER_STREAM_PATHS:
        return "API_KEY"
    parts = path.split("/", 3)
    if len(parts) == 4:
        family = _FAMILIES.get(f"/{parts[1]}/{parts[2]}/")
        if family is not None:
            public, key_only = family
            if parts[3] in public:
                return "NONE"
            if parts[3] in key_only:
                return "API_KEY"
    return "SIGNED"
