"""Request building: the exact URL and body bytes that are signed and sent."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botters.protocol import ConfigError, Headers, Request, encode_params


def test_params_follow_an_existing_query_and_are_quoted_like_yarl() -> None:
    r = Request.build(
        "get",
        "https://api.bybit.com/v5/order/history?category=linear",
        params={"symbol": "BTCUSDT", "cursor": "page_token%3D26854%26"},
    )
    assert r.method == "GET"
    assert r.query == "category=linear&symbol=BTCUSDT&cursor=page_token%253D26854%2526"


def test_param_value_quoting_table() -> None:
    # Unchanged: unreserved and !$'()*,:@/?; space -> '+'; the rest -> %XX.
    assert encode_params({"v": "a b+c;d=e&f%g!$'()*,:@/?~._-"}) == (
        "v=a+b%2Bc%3Bd%3De%26f%25g!$'()*,:@/?~._-"
    )
    assert encode_params({"v": "日本"}) == "v=%E6%97%A5%E6%9C%AC"


def test_param_scalars_and_sequences() -> None:
    assert encode_params({"a": 1, "b": 1.5, "c": True, "d": False}) == "a=1&b=1.5&c=true&d=false"
    assert encode_params({"ids": [1, 2]}) == "ids=1&ids=2"
    assert encode_params([("k", "1"), ("k", "2")]) == "k=1&k=2"


def test_param_none_is_refused_with_the_key_named() -> None:
    with pytest.raises(ConfigError, match="'symbol'"):
        encode_params({"symbol": None})  # type: ignore[dict-item]


def test_url_query_is_kept_as_written_including_empty_pairs() -> None:
    url = "https://www.okcoin.jp/api/spot/v3/orders?instrument_id=BTC-JPY&limit=2&&after=25"
    assert Request.build("GET", url).url == url
    assert Request.build("GET", "https://www.okx.com/a?ccy=BTC,ETH").query == "ccy=BTC,ETH"


def test_url_requoting_keeps_valid_escapes_and_fixes_the_rest() -> None:
    r = Request.build("GET", "https://x.example/a b/日本?q=a b&r=%zz&s=%41&t=[x]")
    assert r.path == "/a%20b/%E6%97%A5%E6%9C%AC"
    assert r.query == "q=a+b&r=%25zz&s=%41&t=%5Bx%5D"


def test_scheme_host_and_default_port_are_normalised() -> None:
    r = Request.build("GET", "HTTPS://API.Bybit.COM:443/v5/x")
    assert r.url == "https://api.bybit.com/v5/x"
    assert r.host == "api.bybit.com"
    assert Request.build("GET", "http://127.0.0.1:8080").url == "http://127.0.0.1:8080/"


def test_base_url_is_plain_concatenation_for_relative_urls_only() -> None:
    assert (
        Request.build("GET", "/v1/getticker", base_url="https://api.bitflyer.com").url
        == "https://api.bitflyer.com/v1/getticker"
    )
    assert (
        Request.build("GET", "https://other.example/x", base_url="https://api.bitflyer.com").url
        == "https://other.example/x"
    )


def test_relative_url_without_base_is_an_error() -> None:
    with pytest.raises(ConfigError, match="absolute"):
        Request.build("GET", "/v1/getticker")


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("data", [None, {}, []])
def test_no_data_means_no_body_and_no_content_type(method: str, data: object) -> None:
    r = Request.build(method, "https://api.bitflyer.com/v1/me/getbalance", data=data)
    assert r.body == b""
    assert "Content-Type" not in r.headers


def test_json_exchange_gets_json_unknown_host_gets_form() -> None:
    data = {"product_code": "BTC_JPY", "size": 0.01}
    j = Request.build("POST", "https://api.bitflyer.com/v1/me/sendchildorder", data=data)
    assert j.body == b'{"product_code": "BTC_JPY", "size": 0.01}'
    assert j.headers["content-type"] == "application/json"
    f = Request.build("POST", "https://unknown.example/order", data=data)
    assert f.body == b"product_code=BTC_JPY&size=0.01"
    assert f.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_explicit_body_format_and_content_type_win() -> None:
    r = Request.build(
        "POST",
        "https://api.bitflyer.com/x",
        data={"a": "1"},
        body_format="form",
        headers={"content-type": "text/plain"},
    )
    assert r.body == b"a=1"
    assert r.headers["Content-Type"] == "text/plain"


def test_bytes_and_str_bodies_are_sent_as_given() -> None:
    assert Request.build("POST", "https://x.example/", data=b"\x00raw").body == b"\x00raw"
    assert Request.build("POST", "https://x.example/", data="日本").body == "日本".encode()


def test_request_is_frozen_and_derivations_are_new_objects() -> None:
    r = Request.build("GET", "https://x.example/p?a=1")
    with pytest.raises(AttributeError):
        r.url = "https://evil.example/"  # type: ignore[misc]
    r2 = r.with_headers({"X-A": "1"}).with_query("a=1&b=2").with_body(b"x", "text/plain")
    assert (r.url, dict(r.headers), r.body) == ("https://x.example/p?a=1", {}, b"")
    assert r2.url == "https://x.example/p?a=1&b=2"
    assert dict(r2.headers) == {"X-A": "1", "Content-Type": "text/plain"}
    assert r2.body == b"x"


def test_headers_are_case_insensitive_and_replace_in_place() -> None:
    h = Headers([("Content-Type", "a"), ("X-Key", "k")])
    h2 = h.set({"content-type": "b"})
    assert list(h2.items()) == [("content-type", "b"), ("X-Key", "k")]
    assert "CONTENT-TYPE" in h2
    assert h2.remove("x-key") == {"content-type": "b"}
    with pytest.raises(ConfigError):
        Headers({"X": 1})  # type: ignore[dict-item]


_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
_values = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.integers(),
)


@given(st.lists(st.tuples(_keys, _values), max_size=6))
def test_params_round_trip_through_a_standard_parser(pairs: list[tuple[str, object]]) -> None:
    r = Request.build("GET", "https://x.example/p", params=pairs)  # type: ignore[arg-type]
    assert r.query.isascii()
    assert parse_qsl(urlsplit(r.url).query, keep_blank_values=True) == [
        (k, str(v)) for k, v in pairs
    ]


@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30))
def test_building_is_idempotent_on_its_own_output(text: str) -> None:
    first = Request.build("GET", "https://x.example/p", params={"q": text})
    again = Request.build("GET", first.url)
    assert again.url == first.url
    assert again == Request("GET", first.url)


def test_passphrase_headers_are_hidden_in_repr() -> None:
    r = Request.build("GET", "https://www.okx.com/x", headers={"OK-ACCESS-PASSPHRASE": "pp-123456"})
    assert "pp-123456" not in repr(r)
    assert "pp-123456" not in repr(r.headers)
    assert "'OK-ACCESS-PASSPHRASE': '<hidden>'" in repr(r.headers)
    assert r.headers["ok-access-passphrase"] == "pp-123456"
