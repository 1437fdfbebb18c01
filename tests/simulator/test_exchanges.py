"""Choosing an exchange: defaults, addresses, credentials, the certificate, bitFlyer's shapes."""

from __future__ import annotations

import asyncio

import pytest

import botters
from botters.simulator import (
    DEFAULT_MARKETS,
    DEFAULT_MARKETS_BY_EXCHANGE,
    DEMO_APIS,
    DEMO_APIS_BY_EXCHANGE,
    EXCHANGES,
    SIMULATED_HOSTS,
    SIMULATED_HOSTS_BY_EXCHANGE,
    Simulator,
    make_tls_contexts,
)


def test_constants() -> None:
    assert EXCHANGES == ("bitflyer", "bybit", "okx", "binance", "binanceusdsm")
    assert DEMO_APIS_BY_EXCHANGE["bitflyer"] is DEMO_APIS
    assert SIMULATED_HOSTS_BY_EXCHANGE["bitflyer"] == SIMULATED_HOSTS
    assert SIMULATED_HOSTS_BY_EXCHANGE["bybit"] == ("api.bybit.com", "stream.bybit.com")
    assert SIMULATED_HOSTS_BY_EXCHANGE["okx"] == ("www.okx.com", "ws.okx.com")
    assert SIMULATED_HOSTS_BY_EXCHANGE["binance"] == ("api.binance.com", "stream.binance.com")
    assert SIMULATED_HOSTS_BY_EXCHANGE["binanceusdsm"] == (
        "fapi.binance.com",
        "fstream.binance.com",
    )
    # Spot and USDⓈ-M take the same credentials, under "binance".
    assert DEMO_APIS_BY_EXCHANGE["binanceusdsm"] == DEMO_APIS_BY_EXCHANGE["binance"]
    assert list(DEMO_APIS_BY_EXCHANGE["binance"]) == ["binance"]
    assert DEFAULT_MARKETS_BY_EXCHANGE["bitflyer"] is DEFAULT_MARKETS
    # botters takes every demo constant as apis= as it is, the OKX passphrase included.
    okx = botters.load_apis(DEMO_APIS_BY_EXCHANGE["okx"])["okx"]
    assert okx.passphrase == DEMO_APIS_BY_EXCHANGE["okx"]["okx"][2]
    assert botters.load_apis(DEMO_APIS_BY_EXCHANGE["bybit"])["bybit"].key


@pytest.mark.parametrize(
    ("exchange", "product", "paths"),
    [
        ("bitflyer", "FX_BTC_JPY", ("/json-rpc",)),
        ("bybit", "BTCUSDT", ("/v5/public/linear", "/v5/public/spot", "/v5/private")),
        ("okx", "BTC-USDT-SWAP", ("/ws/v5/public", "/ws/v5/private")),
        ("binance", "BTCUSDT", ("/ws", "/stream")),
        ("binanceusdsm", "BTCUSDT", ("/ws", "/stream")),
    ],
)
def test_defaults_and_addresses(exchange: str, product: str, paths: tuple[str, ...]) -> None:
    sim = Simulator(exchange=exchange)
    assert sim.exchange == exchange
    assert sim.products == (product,)
    assert sim.ws_paths == paths
    assert sim.hosts == SIMULATED_HOSTS_BY_EXCHANGE[exchange]
    assert sim.apis == DEMO_APIS_BY_EXCHANGE[exchange]
    assert exchange in repr(sim)
    with Simulator(exchange=exchange, tick_interval=None) as sim:
        assert sim.ws_url == f"ws://127.0.0.1:{sim.port}{paths[0]}"
        assert sim.ws_url_for(paths[-1]) == f"ws://127.0.0.1:{sim.port}{paths[-1]}"
        with pytest.raises(ValueError, match="no WebSocket"):
            sim.ws_url_for("/nope")
        assert sim.resolve == dict.fromkeys(sim.hosts, sim.address)
        bids, asks = sim.book_levels(product)
        assert bids
        assert asks
        assert len(sim.book_levels(product, 3)[0]) == 3
        with pytest.raises(KeyError):
            sim.book_levels("NOPE")


def test_bad_choices() -> None:
    with pytest.raises(ValueError, match="unknown exchange"):
        Simulator(exchange="kraken")
    with pytest.raises(ValueError, match="unknown product 'FX_BTC_JPY'"):
        Simulator(exchange="okx", products=("FX_BTC_JPY",))
    with pytest.raises(ValueError, match=r'"okx": \[key, secret, passphrase\]'):
        Simulator(exchange="okx", apis={"okx": ["key", "secret"]})
    with pytest.raises(ValueError, match=r'"bybit": \[key, secret\]'):
        Simulator(exchange="bybit", apis=DEMO_APIS)


def test_one_certificate_names_every_exchange() -> None:
    server_ctx, client_ctx = make_tls_contexts()

    async def main() -> None:
        for exchange in EXCHANGES:
            async with (
                Simulator(exchange=exchange, tick_interval=None, ssl=server_ctx) as sim,
                botters.Client(resolve=sim.resolve, ssl=client_ctx) as client,
            ):
                for host in sim.hosts:
                    r = await client.fetch("GET", f"https://{host}/nothing-here", auth=None)
                    assert r.response.status == 404  # TLS accepted the name; no such route

    asyncio.run(main())


def test_bitflyer_stays_the_default_and_keeps_its_shapes() -> None:
    sim = Simulator()
    assert sim.exchange == "bitflyer"
    assert sim.board_snapshot("FX_BTC_JPY")["bids"][0]["product_code"] == "FX_BTC_JPY"
    price, size = sim.book_levels("FX_BTC_JPY")[0][0]
    assert int(price) == sim.board_snapshot("FX_BTC_JPY")["bids"][0]["price"]
    assert float(size) == sim.board_snapshot("FX_BTC_JPY")["bids"][0]["size"]
    assert isinstance(sim.mid_price("FX_BTC_JPY"), int)


def test_apis_are_the_credentials_accepted(known_secrets: dict[str, str]) -> None:
    known_secrets["my-okx-test-secret"] = "test_apis_are_the_credentials_accepted"
    custom = {"okx": ["my-key", "my-okx-test-secret", "my-phrase"], "bybit": ["x", "y"]}
    sim = Simulator(exchange="okx", apis=custom)
    assert sim.apis == {"okx": ("my-key", "my-okx-test-secret", "my-phrase")}
    assert Simulator(exchange="bybit", apis=custom).apis == {"bybit": ("x", "y")}
