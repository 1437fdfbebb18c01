"""The trio adapter: botters on trio, with HTTP/1.1 over h11 and WebSocket over wsproto.

Importing this package imports trio, h11 and ssl; ``import botters`` does not.

Connection helpers shared by the HTTP and WebSocket halves live in
:mod:`._net` (:func:`open_stream`).
"""

from __future__ import annotations

from ._net import Pins, make_ssl_context, open_stream, parse_pins

__all__ = ["Pins", "make_ssl_context", "open_stream", "parse_pins"]
