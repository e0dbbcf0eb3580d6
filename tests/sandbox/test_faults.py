"""Fault switches: statuses at a rate or on given requests, Retry-After forms, slow, dropped and
malformed bodies, rate-limit mode, cross-origin next pages; and the fault spec parser."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from types import SimpleNamespace

import httpx
import orjson
import pytest

from restsync.errors import ConfigError
from restsync.sandbox import Faults, FaultSpecError, RecordingServer, Sandbox, parse_faults
from restsync.sandbox import app as sandbox_app
from tests.sandbox.conftest import auth_for, reset


@pytest.fixture(scope="module")
def inv() -> Iterator[Sandbox]:
    with Sandbox("inventory", records=60) as sb:
        yield sb


@pytest.fixture
def sb(inv: Sandbox) -> Iterator[Sandbox]:
    reset(inv)
    yield inv
    reset(inv)


def get(sb: Sandbox, client: httpx.Client, page: int = 1) -> httpx.Response:
    _, headers = auth_for(sb, client)
    return client.get(sb.url("customers"), params={"page": page, "limit": 50}, headers=headers)


def test_fail_requests_by_number(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults = Faults(fail_requests={2: 503, 3: 500, 5: 504})
    statuses = [get(sb, client).status_code for _ in range(6)]
    assert statuses == [200, 503, 500, 200, 504, 200]
    assert [r.number for r in sb.requests] == [1, 2, 3, 4, 5, 6]
    assert sb.stats["fault_503"] == 1
    # switching faults restarts the numbering
    sb.faults = Faults(fail_requests={1: 502})
    assert get(sb, client).status_code == 502
    assert get(sb, client).status_code == 200


def test_rates_are_deterministic_per_seed(sb: Sandbox, client: httpx.Client) -> None:
    def run(seed: int) -> list[int]:
        sb.faults = Faults(seed=seed, rate_429=0.2, rate_500=0.1, rate_503=0.1)
        return [get(sb, client).status_code for _ in range(60)]

    first, again, other = run(1), run(1), run(2)
    assert first == again
    assert first != other
    assert 5 < sum(s != 200 for s in first) < 40
    assert set(first) <= {200, 429, 500, 503}


@pytest.mark.parametrize(
    ("retry_after", "fmt"), [(2, "seconds"), (0, "seconds"), (None, "seconds"), (3, "http-date")]
)
def test_retry_after_forms(
    sb: Sandbox,
    client: httpx.Client,
    retry_after: int | None,
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = 1_717_171_717.0  # the sandbox's wall clock, for the HTTP-date form
    monkeypatch.setattr(
        sandbox_app,
        "time",
        SimpleNamespace(time=lambda: now, time_ns=time.time_ns, monotonic=time.monotonic),
    )
    sb.faults = Faults(
        fail_requests={1: 429, 2: 503}, retry_after=retry_after, retry_after_format=fmt
    )
    for _ in range(2):
        response = get(sb, client)
        assert response.status_code in (429, 503)
        if retry_after is None:
            assert "retry-after" not in response.headers
        elif fmt == "seconds":
            assert response.headers["retry-after"] == str(retry_after)
        else:
            when = parsedate_to_datetime(response.headers["retry-after"]).timestamp()
            assert when == now + retry_after
    assert sb.count_429 == 1


def test_dropped_connection(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults = Faults(fail_requests={1: "drop"})
    with pytest.raises(httpx.RemoteProtocolError):
        get(sb, client)
    assert get(sb, client).status_code == 200  # the client reconnects; the API is fine again


def test_truncated_json(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults = Faults(fail_requests={1: "truncate"})
    response = get(sb, client)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(ValueError):
        response.json()


def test_html_error_page_with_200(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults = Faults(fail_requests={1: "html"})
    response = get(sb, client)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")


def test_non_utf8_body(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults = Faults(fail_requests={1: "non_utf8"})
    response = get(sb, client)
    assert response.status_code == 200
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")


def test_shape_change(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults = Faults(fail_requests={2: "shape"})
    normal, changed = get(sb, client).json(), get(sb, client).json()
    assert "data" in normal
    assert "data" not in changed
    assert changed["items"] == normal["data"]


def test_slow_responses_do_not_block_each_other(sb: Sandbox) -> None:
    sb.faults = Faults(slow=0.5)
    _, headers = auth_for(sb, httpx.Client())
    sb.clear_requests()
    seen_at_first_answer: list[int] = []

    async def fetch_all() -> list[int]:
        async with httpx.AsyncClient(headers=headers) as ac:

            async def fetch() -> int:
                response = await ac.get(sb.url("customers"), params={"page": 1})
                if not seen_at_first_answer:
                    seen_at_first_answer.append(len(sb.requests_to("customers")))
                return response.status_code

            return list(await asyncio.gather(*(fetch() for _ in range(8))))

    statuses = asyncio.run(fetch_all())
    assert statuses == [200] * 8
    # served side by side: every request was in the sandbox before the first slow answer came
    # (one at a time, the first answer would come while the others were still waiting)
    assert seen_at_first_answer == [8]


def test_rate_limit_mode(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults = Faults(rate_limit=5)
    statuses = [get(sb, client).status_code for _ in range(12)]
    assert statuses[:5] == [200] * 5
    assert statuses.count(429) == 7
    assert sb.stats["rate_limited"] == 7
    assert sb.count_429 == 7
    limited = next(r for r in sb.requests if r.status == 429)
    assert limited.fault == "rate_limit"
    # another credential has its own budget (here: rejected by auth, but not by the limiter)
    other = client.get(sb.url("customers"), headers={"Authorization": "Bearer someone-else"})
    assert other.status_code == 401
    response = get(sb, client)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    time.sleep(1.0)
    assert get(sb, client).status_code == 200


def test_cross_origin_next_page_url(client: httpx.Client) -> None:
    with RecordingServer(json_body={"inventory": [], "pagination": {"nextPageUrl": None}}) as other:
        with Sandbox("commerce", records=120, faults=Faults(cross_origin_next=other.origin)) as sb:
            _, headers = auth_for(sb, client)
            body = client.get(sb.url("inventory"), headers=headers).json()
            url = body["pagination"]["nextPageUrl"]
            assert url.startswith(other.origin + "/1.0/commerce/inventory?cursor=")
            # a careful client follows it without credentials; the recording server shows that
            assert client.get(url).json() == other.json_body
        assert len(other.received) == 1
        assert "authorization" not in other.received[0].headers
        assert other.received[0].path == "/1.0/commerce/inventory"


def test_recording_server_records_everything(client: httpx.Client) -> None:
    with RecordingServer(json_body={"ok": True}, status=201) as other:
        response = client.post(
            other.origin + "/any/path?x=1", content=b"hello", headers={"X-Key": "v"}
        )
        assert response.status_code == 201
        assert response.json() == {"ok": True}
        seen = other.received[0]
        assert (seen.method, seen.path, seen.query, seen.body) == (
            "POST",
            "/any/path",
            {"x": "1"},
            b"hello",
        )
        assert seen.headers["x-key"] == "v"
        assert other.origin.startswith("http://127.0.0.1:")


def test_parse_faults() -> None:
    faults = parse_faults(
        "429=0.1,500=0.05,slow=50ms,drop=0.01,retry_after=none,@3=503,@4=drop,seed=7,rate_limit=20"
    )
    assert faults.rate_429 == 0.1
    assert faults.rate_500 == 0.05
    assert faults.slow == pytest.approx(0.05)
    assert faults.drop == 0.01
    assert faults.retry_after is None
    assert faults.fail_requests == {3: 503, 4: "drop"}
    assert faults.seed == 7
    assert faults.rate_limit == 20
    assert parse_faults("") == Faults()
    assert (
        parse_faults("slow=1.5s,retry_after_format=http-date,cross_origin=http://127.0.0.1:9").slow
        == 1.5
    )
    assert Faults.from_dict(orjson.loads(orjson.dumps(faults.to_dict()))) == faults


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("dorp=0.1", "did you mean 'drop'"),
        ("429", "expected key=value"),
        ("429=lots", "not a number"),
        ("slow=fast", "duration"),
        ("429=1.5", "between 0 and 1"),
        ("429=0.7,500=0.6", "add up to"),
        ("@0=503", "request number"),
        ("@2=explode", "unknown fault 'explode'"),
        ("@2=200", "not 4xx/5xx"),
    ],
)
def test_parse_faults_errors(spec: str, match: str) -> None:
    with pytest.raises(FaultSpecError, match=match) as info:
        parse_faults(spec)
    assert isinstance(info.value, ConfigError)
    assert str(info.value).count("\n") <= 2
