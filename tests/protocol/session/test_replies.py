"""PendingReplies: requests paired with the reply that echoes their id (pure, no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import ConfigError
from botters.protocol._ws import request_id_field
from botters.protocol.session import PendingReplies


def test_a_message_without_id_gets_a_fresh_one_on_a_copy() -> None:
    p = PendingReplies(prefix="btab12")
    message = {"method": "order.place", "params": {"symbol": "BTCUSDT"}}
    first, _ = p.add(message, field="id", conn_id=1, waiter="a")
    second, _ = p.add(message, field="id", conn_id=1, waiter="b")
    assert message == {"method": "order.place", "params": {"symbol": "BTCUSDT"}}
    assert first["id"] == "btab121"
    assert second["id"] == "btab122"
    assert p.match({"id": "btab122", "status": 200}) == "b"
    assert p.match({"id": "btab121", "status": 200}) == "a"
    assert not p


def test_the_field_name_is_the_exchanges() -> None:
    p = PendingReplies()
    sent, _ = p.add({"op": "order.create"}, field="reqId", conn_id=1, waiter="w")
    assert "reqId" in sent
    assert "id" not in sent
    assert p.match({"id": sent["reqId"]}) is None
    assert p.match({"reqId": sent["reqId"], "retCode": 0}) == "w"


def test_ids_match_by_value_and_type() -> None:
    p = PendingReplies()
    p.add({"id": 1}, field="id", conn_id=1, waiter="int")
    p.add({"id": "1"}, field="id", conn_id=1, waiter="str")
    assert p.match({"id": True}) is None
    assert p.match({"id": 1.0}) is None
    assert p.match({"id": "1"}) == "str"
    assert p.match({"id": 1}) == "int"


def test_not_replies_are_not_matched() -> None:
    p = PendingReplies()
    p.add({"id": 5}, field="id", conn_id=1, waiter="w")
    for message in (None, "pong", [1], {"e": "trade"}, {"id": None}, {"id": 6}):
        assert p.match(message) is None
    assert len(p) == 1


def test_a_lost_connection_hands_back_its_requests_only() -> None:
    p = PendingReplies()
    p.add({"id": "a"}, field="id", conn_id=1, waiter="a")
    p.add({"id": "b"}, field="id", conn_id=2, waiter="b")
    p.add({"id": "c"}, field="id", conn_id=1, waiter="c")
    assert sorted(p.lost(1)) == ["a", "c"]
    assert p.lost(1) == []
    assert p.match({"id": "a"}) is None
    assert p.match({"id": "b"}) == "b"


def test_forget_frees_the_id() -> None:
    p = PendingReplies()
    _, key = p.add({"id": "x"}, field="id", conn_id=1, waiter="w")
    with pytest.raises(ConfigError, match="already pending"):
        p.add({"id": "x"}, field="id", conn_id=1, waiter="w2")
    p.forget(key)
    p.forget(key)  # harmless
    assert p.match({"id": "x"}) is None
    p.add({"id": "x"}, field="id", conn_id=1, waiter="w3")
    assert p.match({"id": "x"}) == "w3"


def test_bad_requests_are_refused() -> None:
    p = PendingReplies()
    with pytest.raises(ConfigError, match="JSON object"):
        p.add(["x"], field="id", conn_id=1, waiter="w")  # type: ignore[arg-type]
    for bad in (1.5, True, [1], {"a": 1}):
        with pytest.raises(ConfigError, match="string or an integer"):
            p.add({"id": bad}, field="id", conn_id=1, waiter="w")
    assert not p


def test_a_generated_id_skips_one_the_user_took() -> None:
    p = PendingReplies(prefix="bt")
    p.add({"id": "bt1"}, field="id", conn_id=1, waiter="user")
    sent, _ = p.add({}, field="id", conn_id=1, waiter="ours")
    assert sent["id"] == "bt2"


@given(st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=8)), max_size=30))
def test_every_request_is_answered_once_in_any_order(ids: list[object]) -> None:
    p = PendingReplies()
    sent = []
    for i, value in enumerate(ids):
        message = {} if value is None else {"id": value}
        try:
            out, _ = p.add(message, field="id", conn_id=1, waiter=i)
        except ConfigError:
            continue  # a duplicate of a pending id
        sent.append((out["id"], i))
    for reply_id, waiter in reversed(sent):
        assert p.match({"id": reply_id}) == waiter
    assert not p


def test_request_id_fields_per_exchange() -> None:
    assert request_id_field("wss://ws-api.binance.com:443/ws-api/v3") == "id"
    assert request_id_field("wss://ws.okx.com:8443/ws/v5/private") == "id"
    assert request_id_field("wss://stream.bybit.com/v5/trade") == "reqId"
    assert request_id_field("wss://stream.bybit.com/v5/private") == "req_id"
    assert request_id_field("wss://stream.bybit.com/v5/public/linear") == "req_id"
    assert request_id_field("ws://127.0.0.1:8080/") == "id"
    assert request_id_field("wss://stream.bybit.com.evil.example/v5/trade") == "id"
