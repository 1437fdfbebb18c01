"""The WebSocket scenario suite: one set of scenarios, run against every adapter.

Scenarios (each against the TLS simulator, with the production URLs pinned to
it so that the client signs exactly as for bitFlyer):

1. ``test_subscribe.py``: subscribe and receive; the store fills and matches.
2. ``test_drops.py``: 50 abrupt drops, 50 recoveries, the book equal each time.
3. ``test_silent_peer.py``: a silent peer is given up within the timeout.
4. and 5. ``test_backoff.py``: refused handshakes and rejected logins back off.
6. and 7. ``test_bad_input.py``: garbage frames and raising handlers are survived.
8. ``test_close.py``: ``close()`` leaves no task and no socket behind.
9. ``test_resync_requests.py``: order books' resync requests carried out by the
   adapter (resubscribe on the live connection, REST fetch, timed retries).
10. ``test_book_sync.py``: per dialect (Bybit, OKX), 50 drops and 50 sequence
    faults, each followed by the store's book equal to the simulator's.

``_adapters.py`` holds the driver interface and its implementations,
``_dialects.py`` the exchanges of scenario 10,
``_support.py`` the shared feed, probe and bounds, ``test_adapters.py`` checks
the helpers themselves. Measured figures appear in the terminal summary.
"""
