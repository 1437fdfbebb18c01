"""GMO Coin's documented REST limits (https://api.coin.z.com/docs/).

Rules
-----
* Private API (``/private/...``), per account (``scope="key"``): the limit
  depends on last week's trading volume. Tier 1 (below 1,000,000,000 JPY) allows
  20 GET calls per second and 20 POST calls per second from the same account;
  Tier 2 allows 30 of each. The tables use Tier 1, the default; a Tier 2 account
  can pass ``RateLimiter(scale=1.5)`` or its own limits. The docs say "1秒間に",
  per second, without clock alignment, so the windows are ``"sliding"``.
* GET and POST are counted apart. The private API also takes PUT and DELETE
  (the WebSocket token endpoint); they are counted with POST, the budget for
  calls that change something.
* The docs give no limit for the public REST API (only for the public
  WebSocket), so ``/public/...`` requests are not limited.

GMO Coin documents no rate-limit response headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from botters.protocol._request import Request
from botters.protocol.limits import Cost, ExchangeLimits, Window

__all__ = ["LIMITS", "price"]

SOURCE: Final = "https://api.coin.z.com/docs/"

PRIVATE_GET: Final = Window(
    name="gmocoin.private.get", limit=20, period=1.0, kind="sliding", scope="key", source=SOURCE
)
PRIVATE_POST: Final = Window(
    name="gmocoin.private.post", limit=20, period=1.0, kind="sliding", scope="key", source=SOURCE
)

_GET: Final = ((PRIVATE_GET, 1.0),)
_POST: Final = ((PRIVATE_POST, 1.0),)


def price(request: Request) -> Sequence[Cost]:
    """One call of the private GET or POST budget; nothing for the public API."""
    if not request.path.startswith("/private/"):
        return ()
    return _GET if request.method == "GET" else _POST


LIMITS: Final = ExchangeLimits(
    exchange="gmocoin",
    hosts=frozenset({"api.coin.z.com"}),  # ROUTES in _auth.py
    windows=(PRIVATE_GET, PRIVATE_POST),
    price=price,
    source=SOURCE,
)
