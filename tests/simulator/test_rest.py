"""REST: public data, the signature check, orders, positions, collateral, REST faults."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
import yarl

import botters
from botters.simulator import DEMO_APIS, RestFault, Simulator

KEY, SECRET = DEMO_APIS["bitflyer"]


async def get(session: aiohttp.ClientSession, sim: Simulator, path_qs: str, **kw: Any) -> Any:
    async with session.get(yarl.URL(sim.rest_url + path_qs, encoded=True), **kw) as r:
        text = await r.text()
        return r.status, (json.loads(text) if text else None)


async def post(
    session: aiohttp.ClientSession, sim: Simulator, path: str, body: str, headers: dict[str, str]
) -> Any:
    async with session.post(sim.rest_url + path, data=body.encode(), headers=headers) as r:
        text = await r.text()
        return r.status, (json.loads(text) if text else None)


def test_public_endpoints() -> None:
    async def main() -> None:
        async with (
            Simulator(seed=1, tick_interval=None, products=("FX_BTC_JPY", "ETH_JPY")) as sim,
            aiohttp.ClientSession() as s,
        ):
            status, ticker = await get(s, sim, "/v1/getticker")
            assert status == 200
            assert ticker["product_code"] == "FX_BTC_JPY"  # the first product by default
            status, ticker = await get(s, sim, "/v1/getticker?product_code=ETH_JPY")
            assert ticker["product_code"] == "ETH_JPY"
            assert ticker == sim.ticker("ETH_JPY")
            status, board = await get(s, sim, "/v1/getboard?product_code=FX_BTC_JPY")
            assert status == 200
            snap = sim.board_snapshot("FX_BTC_JPY")
            assert board["bids"] == [{"price": x["price"], "size": x["size"]} for x in snap["bids"]]
            assert board["asks"] == [{"price": x["price"], "size": x["size"]} for x in snap["asks"]]
            assert board["mid_price"] == sim.mid_price("FX_BTC_JPY")
            sim.advance(3)
            status, ticker = await get(s, sim, "/v1/getticker")
            assert ticker["tick_id"] == 3
            status, markets = await get(s, sim, "/v1/getmarkets")
            assert [m["product_code"] for m in markets] == ["FX_BTC_JPY", "ETH_JPY"]
            status, error = await get(s, sim, "/v1/getboard?product_code=NOPE")
            assert status == 400
            assert error["status"] < 0
            assert "NOPE" in error["error_message"]

    asyncio.run(main())


def test_signed_by_hand_accepted(sign: Callable[..., dict[str, str]]) -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            path = "/v1/me/getcollateral"
            status, body = await get(s, sim, path, headers=sign("GET", path))
            assert status == 200
            assert body["collateral"] == 1_000_000
            # A 10-digit (seconds) timestamp is accepted too.
            headers = sign("GET", path, timestamp=str(int(time.time())))
            status, _ = await get(s, sim, path, headers=headers)
            assert status == 200
            assert sim.stats.rest_rejected == 0

    asyncio.run(main())


def test_signed_by_botters_accepted() -> None:
    # botters signs the production URL; the same path, query, body and
    # headers sent to the simulator verify, since bitFlyer's signature does
    # not cover the host.
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            order = botters.sign_request(
                botters.Request.build(
                    "POST",
                    "https://api.bitflyer.com/v1/me/sendchildorder",
                    data={
                        "product_code": "FX_BTC_JPY",
                        "child_order_type": "LIMIT",
                        "side": "BUY",
                        "price": 9_000_000,
                        "size": 0.01,
                    },
                ),
                dict(DEMO_APIS),
            )
            assert "ACCESS-SIGN" in order.headers
            status, body = await post(
                s, sim, order.path_qs, order.body.decode(), dict(order.headers)
            )
            assert status == 200, body
            acceptance_id = body["child_order_acceptance_id"]
            listing = botters.sign_request(
                botters.Request.build(
                    "GET",
                    "https://api.bitflyer.com/v1/me/getchildorders",
                    params={"product_code": "FX_BTC_JPY", "child_order_state": "ACTIVE"},
                ),
                dict(DEMO_APIS),
            )
            status, rows = await get(s, sim, listing.path_qs, headers=dict(listing.headers))
            assert status == 200, rows
            assert [r["child_order_acceptance_id"] for r in rows] == [acceptance_id]

    asyncio.run(main())


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "unknown key",
        "wrong secret",
        "stale",
        "future",
        "not a number",
        "tampered body",
        "tampered query",
        "wrong method",
        "not hex",
    ],
)
def test_bad_signatures_rejected(
    case: str, sign: Callable[..., dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    path = "/v1/me/sendchildorder"
    body = json.dumps(
        {"product_code": "FX_BTC_JPY", "child_order_type": "MARKET", "side": "BUY", "size": 0.01}
    )
    sent_body = body
    now_ms = int(time.time() * 1000)
    headers = sign("POST", path, body)
    if case == "missing":
        del headers["ACCESS-SIGN"]
    elif case == "unknown key":
        headers = sign("POST", path, body, key="someone-else")
    elif case == "wrong secret":
        headers = sign("POST", path, body, secret="not-the-secret")
    elif case == "stale":
        headers = sign("POST", path, body, timestamp=str(now_ms - 120_000))
    elif case == "future":
        headers = sign("POST", path, body, timestamp=str(now_ms + 120_000))
    elif case == "not a number":
        headers = sign("POST", path, body, timestamp="yesterday")
    elif case == "tampered body":
        sent_body = body.replace("0.01", "1.01")
    elif case == "tampered query":
        path_sent = path + "?x=1"
    elif case == "wrong method":
        headers = sign("PUT", path, body)
    elif case == "not hex":
        headers["ACCESS-SIGN"] = "z" * 64

    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            target = path_sent if case == "tampered query" else path
            with caplog.at_level(logging.WARNING, logger="botters.simulator"):
                status, error = await post(s, sim, target, sent_body, headers)
            assert status == 401
            assert error["status"] == -500
            assert error["data"] is None
            assert "authentication failed" in error["error_message"]
            assert sim.stats.rest_rejected == 1
            assert sim.stats.orders == 0
            assert sim.child_orders() == []

    asyncio.run(main())
    rejected = [r for r in caplog.records if r.name == "botters.simulator" and "rejected" in r.msg]
    assert len(rejected) == 1
    assert SECRET not in caplog.text


def test_timestamp_window_is_configurable(sign: Callable[..., dict[str, str]]) -> None:
    async def main() -> None:
        clock = [1_000_000_000.0]
        async with (
            Simulator(tick_interval=None, timestamp_window=5, clock=lambda: clock[0]) as sim,
            aiohttp.ClientSession() as s,
        ):
            path = "/v1/me/getcollateral"
            headers = sign("GET", path, timestamp=str(1_000_000_000 * 1000 + 4_000))
            assert (await get(s, sim, path, headers=headers))[0] == 200
            headers = sign("GET", path, timestamp=str(1_000_000_000 * 1000 + 6_000))
            assert (await get(s, sim, path, headers=headers))[0] == 401

    asyncio.run(main())


def test_custom_apis(sign: Callable[..., dict[str, str]], known_secrets: dict[str, str]) -> None:
    known_secrets["my-own-test-secret"] = "test_custom_apis"

    async def main() -> None:
        apis = {"bitflyer": ["my-key", "my-own-test-secret"]}
        async with Simulator(tick_interval=None, apis=apis) as sim, aiohttp.ClientSession() as s:
            path = "/v1/me/getcollateral"
            ok = sign("GET", path, key="my-key", secret="my-own-test-secret")
            assert (await get(s, sim, path, headers=ok))[0] == 200
            assert (await get(s, sim, path, headers=sign("GET", path)))[0] == 401

    asyncio.run(main())
    with pytest.raises(ValueError, match="bitflyer"):
        Simulator(apis={"bybit": ["k", "s"]})


def test_orders_positions_collateral(sign: Callable[..., dict[str, str]]) -> None:
    async def main() -> None:
        async with Simulator(seed=4, tick_interval=None) as sim, aiohttp.ClientSession() as s:

            async def send(body: dict[str, Any]) -> Any:
                text = json.dumps(body)
                path = "/v1/me/sendchildorder"
                return await post(s, sim, path, text, sign("POST", path, text))

            async def signed_get(path_qs: str) -> Any:
                return await get(s, sim, path_qs, headers=sign("GET", path_qs))

            best_ask = sim.ticker("FX_BTC_JPY")["best_ask"]
            status, placed = await send(
                {
                    "product_code": "FX_BTC_JPY",
                    "child_order_type": "MARKET",
                    "side": "BUY",
                    "size": 0.02,
                }
            )
            assert status == 200
            status, rows = await signed_get(
                "/v1/me/getchildorders?product_code=FX_BTC_JPY&child_order_state=COMPLETED"
            )
            assert rows[0]["child_order_acceptance_id"] == placed["child_order_acceptance_id"]
            assert rows[0]["average_price"] == best_ask
            assert rows[0]["executed_size"] == 0.02
            assert rows[0]["outstanding_size"] == 0
            status, positions = await signed_get("/v1/me/getpositions?product_code=FX_BTC_JPY")
            assert status == 200
            assert [(p["side"], p["price"], p["size"]) for p in positions] == [
                ("BUY", best_ask, 0.02)
            ]
            assert positions == sim.positions()
            status, collateral = await signed_get("/v1/me/getcollateral")
            assert collateral == sim.collateral()
            assert collateral["require_collateral"] > 0

            # A resting LIMIT order, then its cancellation.
            status, placed = await send(
                {
                    "product_code": "FX_BTC_JPY",
                    "child_order_type": "LIMIT",
                    "side": "SELL",
                    "price": best_ask + 100_000,
                    "size": 0.01,
                }
            )
            acceptance_id = placed["child_order_acceptance_id"]
            status, rows = await signed_get(
                f"/v1/me/getchildorders?child_order_acceptance_id={acceptance_id}"
            )
            assert rows[0]["child_order_state"] == "ACTIVE"
            assert rows[0]["outstanding_size"] == 0.01
            text = json.dumps(
                {"product_code": "FX_BTC_JPY", "child_order_acceptance_id": acceptance_id}
            )
            path = "/v1/me/cancelchildorder"
            status, body = await post(s, sim, path, text, sign("POST", path, text))
            assert (status, body) == (200, None)
            status, rows = await signed_get("/v1/me/getchildorders?child_order_state=CANCELED")
            assert [r["child_order_acceptance_id"] for r in rows] == [acceptance_id]
            # Cancelling again is refused.
            status, body = await post(s, sim, path, text, sign("POST", path, text))
            assert status == 400
            assert "CANCELED" in body["error_message"]
            assert sim.stats.orders == 2

    asyncio.run(main())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        ('{"product_code": "FX_BTC_JPY", "side": "BUY"}', "child_order_type"),
        ('{"product_code": "XRP", "side": "BUY"}', "product_code"),
    ],
)
def test_bad_orders_rejected(body: str, message: str, sign: Callable[..., dict[str, str]]) -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            path = "/v1/me/sendchildorder"
            status, error = await post(s, sim, path, body, sign("POST", path, body))
            assert status == 400
            assert message in error["error_message"]
            assert sim.stats.rest_rejected == 1

    asyncio.run(main())


def test_getpositions_needs_a_margin_product(sign: Callable[..., dict[str, str]]) -> None:
    async def main() -> None:
        async with (
            Simulator(tick_interval=None, products=("FX_BTC_JPY", "BTC_JPY")) as sim,
            aiohttp.ClientSession() as s,
        ):
            for path in ("/v1/me/getpositions", "/v1/me/getpositions?product_code=BTC_JPY"):
                status, _ = await get(s, sim, path, headers=sign("GET", path))
                assert status == 400

    asyncio.run(main())


def test_rest_responses_initialize_the_store(sign: Callable[..., dict[str, str]]) -> None:
    async def main() -> None:
        async with Simulator(seed=2, tick_interval=None) as sim, aiohttp.ClientSession() as s:
            for side, kind in (("BUY", "MARKET"), ("SELL", "LIMIT")):
                body = json.dumps(
                    {
                        "product_code": "FX_BTC_JPY",
                        "child_order_type": kind,
                        "side": side,
                        "price": 20_000_000,
                        "size": 0.05,
                    }
                )
                path = "/v1/me/sendchildorder"
                assert (await post(s, sim, path, body, sign("POST", path, body)))[0] == 200
            store = botters.bitFlyerDataStore()
            for path_qs in (
                "/v1/me/getchildorders?product_code=FX_BTC_JPY",
                "/v1/me/getpositions?product_code=FX_BTC_JPY",
                "/v1/me/getcollateral",
            ):
                status, data = await get(s, sim, path_qs, headers=sign("GET", path_qs))
                assert status == 200
                await store.initialize(("https://api.bitflyer.com" + path_qs, data))
            assert [o["side"] for o in store.childorders.find()] == ["SELL"]
            assert [(p["side"], p["size"]) for p in store.positions.find()] == [("BUY", 0.05)]
            assert store.collateral.find()[0]["collateral"] == 1_000_000

    asyncio.run(main())


def test_rest_fault_status_and_path(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            sim.inject_rest(RestFault(status=503), count=2, path="/v1/getboard")
            assert (await get(s, sim, "/v1/getticker"))[0] == 200  # another path
            status, error = await get(s, sim, "/v1/getboard")
            assert status == 503
            assert error["error_message"] == "simulated failure"
            assert (await get(s, sim, "/v1/getboard"))[0] == 503
            assert (await get(s, sim, "/v1/getboard"))[0] == 200
            sim.inject_rest(RestFault(status=500))
            sim.clear_faults()
            assert (await get(s, sim, "/v1/getboard"))[0] == 200
            assert sim.stats.rest_rejected == 2

    with caplog.at_level(logging.INFO, logger="botters.simulator"):
        asyncio.run(main())
    assert (
        sum("answering GET /v1/getboard with HTTP 503" in r.getMessage() for r in caplog.records)
        == 2
    )


def test_rest_fault_delay(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with Simulator(tick_interval=None) as sim, aiohttp.ClientSession() as s:
            sim.inject_rest(RestFault(delay=0.3))
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert (await get(s, sim, "/v1/getticker"))[0] == 200
            assert loop.time() - started >= 0.3
            # Only the next request was delayed.
            slow = asyncio.create_task(get(s, sim, "/v1/getticker"))
            assert (await slow)[0] == 200

    with caplog.at_level(logging.INFO, logger="botters.simulator"):
        asyncio.run(main())
    assert sum("delaying GET /v1/getticker" in r.getMessage() for r in caplog.records) == 1


def test_fault_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="delay"):
        RestFault(delay=-1)
    with pytest.raises(ValueError, match="status"):
        RestFault(status=200)
    sim = Simulator()
    with pytest.raises(ValueError, match="count"):
        sim.inject_rest(RestFault(), count=0)


def test_key_constant_shape() -> None:
    assert DEMO_APIS["bitflyer"] == (KEY, SECRET)
    # botters accepts the constant as apis= as it is.
    apis = botters.load_apis(DEMO_APIS)
    assert apis["bitflyer"].key == KEY
