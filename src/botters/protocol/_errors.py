"""The botters exception hierarchy.

Everything botters raises on purpose derives from :class:`BottersError`, so a bot
can catch the library's failures without catching its own bugs. Caller misuse is
raised where it happens; what an exchange or the network does is reported as an
event and logged, never raised out of a receive loop (see DESIGN.md, "Errors").
"""

from __future__ import annotations

__all__ = [
    "BottersError",
    "ConfigError",
    "CredentialsError",
    "SigningError",
]


class BottersError(Exception):
    """Root of every exception botters raises deliberately."""


class ConfigError(BottersError, ValueError):
    """The caller gave botters something it cannot use (a bad argument or setting).

    It is also a :class:`ValueError`, so code written against pybotters that
    catches ``ValueError`` keeps working.
    """


class CredentialsError(ConfigError):
    """The ``apis`` credentials are malformed, unreadable or incomplete.

    The message names the API name (``"okx"``) and what is wrong, and never
    contains a key, secret or passphrase.
    """


class SigningError(BottersError):
    """A request could not be signed as the exchange requires.

    Raised, for example, when a Binance secret is a PEM key but the optional
    ``cryptography`` package is not installed, or when a request already carries
    a body in a form the exchange's signature cannot cover.
    """
