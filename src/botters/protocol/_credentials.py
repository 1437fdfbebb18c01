"""API credentials: parsing pybotters' ``apis`` shape and keeping secrets out of sight.

``apis`` maps an API name to ``[key, secret]`` or ``[key, secret, passphrase]``,
exactly as in pybotters. :func:`parse_apis` checks every entry and returns an
:class:`Apis` mapping of :class:`Credentials`. A bad entry is logged (naming the
API name and the problem) and left out, as pybotters did for a missing
passphrase; botters also warns where pybotters dropped entries silently.

A :class:`Credentials` object never shows its secret or passphrase in ``repr``,
``str`` or an exception, and shows only the first characters of the key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Final

from ._errors import CredentialsError

__all__ = [
    "API_NAMES",
    "PASSPHRASE_REQUIRED",
    "Apis",
    "Credentials",
    "parse_apis",
]

logger = logging.getLogger("botters.apis")

API_NAMES: Final = frozenset(
    {
        "binance",
        "binancespot_testnet",
        "binancefuture_testnet",
        "bitbank",
        "bitflyer",
        "bitget",
        "bitmex",
        "bitmex_testnet",
        "bybit",
        "bybit_demo",
        "bybit_testnet",
        "coincheck",
        "gmocoin",
        "hyperliquid",
        "hyperliquid_testnet",
        "kucoin",
        "mexc",
        "okx",
        "okx_demo",
        "phemex",
        "phemex_testnet",
        "okj",
        "bittrade",
    }
)
"""Every API name pybotters documents (botters signs all but Hyperliquid's)."""

PASSPHRASE_REQUIRED: Final = frozenset({"okx", "okx_demo", "bitget", "kucoin", "okj"})
"""API names whose signature needs a passphrase (pybotters forgot ``okx_demo``)."""

_SINGLE_KEY_NAMES: Final = frozenset({"hyperliquid", "hyperliquid_testnet"})


def _mask(key: str) -> str:
    return f"{key[:4]}…" if len(key) > 4 else "…"


class Credentials:
    """One API name's key, secret and optional passphrase.

    The secret is kept as bytes (the HMAC key). For Binance it may also be a PEM
    private key (Ed25519 or RSA); the parsed key object is cached here so it is
    loaded once, not on every request.

    >>> c = Credentials("bybit", "77SQfUG7X33J", b"very-secret")
    >>> c
    Credentials(name='bybit', key='77SQ…', secret=<hidden>)
    >>> "very-secret" in repr(c) + str(c)
    False
    """

    __slots__ = ("_private_key", "key", "name", "passphrase", "secret")

    name: str
    """The API name these credentials belong to (``"okx"``)."""
    key: str
    """The API key (sent to the exchange in clear, but masked in ``repr``)."""
    secret: bytes
    """The secret, UTF-8 encoded. Never printed."""
    passphrase: str
    """The passphrase, ``""`` when there is none. Never printed."""

    def __init__(self, name: str, key: str, secret: bytes, passphrase: str = "") -> None:
        self.name = name
        self.key = key
        self.secret = secret
        self.passphrase = passphrase
        self._private_key: Any = None

    def __repr__(self) -> str:
        extra = ", passphrase=<hidden>" if self.passphrase else ""
        return f"Credentials(name={self.name!r}, key={_mask(self.key)!r}, secret=<hidden>{extra})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self.name, self.key, self.secret, self.passphrase) == (
            other.name,
            other.key,
            other.secret,
            other.passphrase,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.key))

    def __reduce__(self) -> Any:
        # Pickling is allowed (multiprocessing bots), printing is not.
        return (Credentials, (self.name, self.key, self.secret, self.passphrase))

    @property
    def is_pem(self) -> bool:
        """True when the secret is a PEM private key (Binance Ed25519/RSA)."""
        return self.secret.lstrip().startswith(b"-----BEGIN")


class Apis(Mapping[str, Credentials]):
    """Parsed credentials by API name; build with :func:`parse_apis`.

    It is a read-only mapping: ``apis["bybit"].key``. Its ``repr`` lists names
    only.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Credentials] | None = None) -> None:
        self._items: dict[str, Credentials] = dict(items or {})

    def __getitem__(self, name: str) -> Credentials:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Apis({sorted(self._items)!r})"

    __str__ = __repr__


def _entry_problem(name: str, entry: object) -> str | None:
    """Describe what is wrong with one ``apis`` entry, without echoing its values."""
    if not isinstance(entry, list | tuple):
        return f"must be a list [key, secret(, passphrase)], not {type(entry).__name__}"
    if not all(isinstance(v, str) for v in entry):
        kinds = ", ".join(type(v).__name__ for v in entry)
        return f"values must all be strings, got ({kinds})"
    n = len(entry)
    if n == 1 and name in _SINGLE_KEY_NAMES:
        return None
    if n == 1:
        return "has only a key; expected [key, secret] or [key, secret, passphrase]"
    if n == 2 and name in PASSPHRASE_REQUIRED:
        return "missing passphrase: expected [key, secret, passphrase]"
    if n not in (2, 3):
        return f"has {n} values; expected [key, secret] or [key, secret, passphrase]"
    return None


def parse_apis(apis: Mapping[str, Any], *, source: str = "apis") -> Apis:
    """Check and convert a pybotters-style ``apis`` mapping.

    Entries that cannot be used are logged at WARNING with their API name and
    reason, then left out (a bot may hold keys for exchanges it does not use
    today; one bad entry must not stop the others). Names botters does not know
    are kept but warned about, since a typo there means requests go unsigned.

    Args:
        apis: ``{name: [key, secret(, passphrase)]}``.
        source: Where the mapping came from, for log messages (a file name).

    Raises:
        CredentialsError: ``apis`` is not a mapping, or a name is not a string.

    >>> parse_apis({"bitflyer": ["KEY", "SECRET"]})["bitflyer"].secret
    b'SECRET'
    """
    if not isinstance(apis, Mapping):
        raise CredentialsError(f"{source}: must be a JSON object / dict, not {type(apis).__name__}")
    out: dict[str, Credentials] = {}
    for name, entry in apis.items():
        if not isinstance(name, str):
            raise CredentialsError(
                f"{source}: API names must be strings, got {type(name).__name__}"
            )
        problem = _entry_problem(name, entry)
        if problem is not None:
            logger.warning("%s: %r %s; this entry is ignored", source, name, problem)
            continue
        if name not in API_NAMES:
            logger.warning(
                "%s: %r is not an API name botters knows; requests will not use it "
                "(known names: %s)",
                source,
                name,
                ", ".join(sorted(API_NAMES)),
            )
        key = entry[0]
        secret = entry[1].encode() if len(entry) > 1 else b""
        passphrase = entry[2] if len(entry) > 2 else ""
        out[name] = Credentials(name, key, secret, passphrase)
    return Apis(out)
