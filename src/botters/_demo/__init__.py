"""``botters demo``: a bot's whole round trip against the embedded exchange simulator.

Theory of operation
-------------------
The demo is what a real bot does on bitFlyer (the default), Bybit, OKX or
Binance Spot, pointed at a local exchange:

1. start :class:`~botters.simulator.Simulator` for that exchange on this
   event loop, serving TLS with a certificate from a throwaway CA made in
   memory (trustme);
2. open a :class:`botters.Client` with the simulator's demo keys and the
   exchange's **production** URLs (``https://api.bybit.com``,
   ``wss://ws.okx.com:8443/ws/v5/private``...), their host names pinned to
   127.0.0.1 (``resolve=``) and the test CA trusted (``ssl=``). botters signs
   by exact host, so requests and WebSocket logins are signed exactly as they
   would be in production; nothing leaves the loopback interface;
3. send the REST calls the feeds need first, their answers given to the
   store's ``initialize`` (Binance: ``POST /api/v3/userDataStream`` for the
   listenKey that names the user data stream, and the balances), then
   connect the feeds the venue needs (bitFlyer: one JSON-RPC socket; Bybit
   and OKX: a public and a private one, the private one logging in first;
   Binance: a combined market stream and the listenKey's stream), all folded
   into **one** DataStoreCollection, as pybotters users do;
4. show the top of the book, its sync status and the ticker a few times per
   second, read through the store's own API (``sorted(limit=...)``,
   ``sync_status()``);
5. place a signed MARKET order over REST, then wait for the order's private
   events on the WebSocket and for the position they open (spot, which has
   no position: for the balances they change);
6. print a summary and close everything.

One runner (``_runner.py``) does all of this for every exchange; what differs
(the REST calls before the feeds, URLs, subscriptions, the store, how it
spells a level or a ticker, the order request, which messages are the order's
events) is a small :class:`~._profile.Profile` per exchange (``_bitflyer.py``,
``_bybit.py``, ``_okx.py``, ``_binance.py``).

Every wait has a deadline; a missed one ends the demo with exit status 1
and a message that says which step failed. Output is plain lines (readable
in a CI log); only on a terminal is the book redrawn in place.
"""

from __future__ import annotations

from ._profile import Profile
from ._runner import PROFILES, DemoError, DemoOptions, run_demo

__all__ = ["PROFILES", "DemoError", "DemoOptions", "Profile", "run_demo"]
