"""TLS for the simulator: a throwaway CA, a server certificate, a client that trusts it.

botters signs only requests to the exchanges' exact ``https``/``wss`` hosts, so
a client that should sign requests to the simulator must talk TLS to it under
the production host names (see :class:`~botters.simulator.Simulator`). The
certificate comes from `trustme <https://trustme.readthedocs.io/>`_, imported
here only when asked for: it is a test tool, not a dependency of botters.
"""

from __future__ import annotations

import ssl

from ._exchanges import SIMULATED_HOSTS_BY_EXCHANGE

__all__ = ["make_tls_contexts"]


def make_tls_contexts(*names: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Return ``(server_context, client_context)`` from a fresh in-memory test CA.

    Pass the server context as ``Simulator(ssl=...)`` and the client context
    to the client (``botters.Client(ssl=...)``, aiohttp's ``ssl=``). Only a
    client given ``client_context`` trusts the certificate; the CA exists in
    memory only and is different on every call.

    Args:
        names: The names the certificate is valid for; by default every
            exchange's production hosts (:data:`SIMULATED_HOSTS_BY_EXCHANGE`),
            ``127.0.0.1`` and ``localhost``, so one certificate serves a
            simulator of any exchange.

    Raises:
        ImportError: ``trustme`` is not installed (``pip install trustme``).
    """
    try:
        import trustme
    except ImportError:
        raise ImportError(
            "make_tls_contexts() needs trustme (pip install trustme); or pass your own "
            "ssl.SSLContext to Simulator(ssl=...)"
        ) from None
    hosts = [host for names_ in SIMULATED_HOSTS_BY_EXCHANGE.values() for host in names_]
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or (*hosts, "127.0.0.1", "localhost"))).configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client
