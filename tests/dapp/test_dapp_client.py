"""The dApp's API client: one HTTP call per distinct read in a script run, a write forgets what was read, and a
rate-limited caller reads how long to wait, in their language."""

from __future__ import annotations

import httpx
import pytest

from dapp.client import Api, ClientError


class Recorder:
    """A stand-in API answering every call from a script, and remembering the calls."""

    def __init__(self, replies: dict[tuple[str, str], httpx.Response]) -> None:
        self.replies, self.calls = replies, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path, request.url.query.decode()))
        return self.replies.get((request.method, request.url.path), httpx.Response(200, json={"n": len(self.calls)}))


def client(recorder: Recorder) -> Api:
    api = Api("token", base_url="http://api.test")
    api._http = httpx.Client(base_url="http://api.test", transport=httpx.MockTransport(recorder))  # noqa: SLF001
    return api


def test_the_same_read_is_asked_once_and_a_write_forgets_it():
    recorder = Recorder({})
    api = client(recorder)
    first = api.get("/communities/1/people")
    first["n"] = "changed by the page"  # a caller changing its copy does not change what the next caller reads
    assert api.get("/communities/1/people") == {"n": 1}
    assert api.get("/communities/1/people", limit=5) == {"n": 2}  # other parameters: another read
    assert api.get("/communities/1/people", limit=None) == {"n": 1}  # an unset parameter is no parameter
    api.post("/communities/1/deals/3/rating", {"stars": 4})
    assert api.get("/communities/1/people") == {"n": 4}  # read again after the write
    assert [c[0] for c in recorder.calls] == ["GET", "GET", "POST", "GET"]


@pytest.mark.parametrize(("language", "sentence"), [("it", "attendi 17 secondi"), ("en", "wait 17 seconds")])
def test_a_rate_limited_caller_is_told_how_long_to_wait(monkeypatch, language, sentence):
    monkeypatch.setattr("dapp.i18n.current_language", lambda: language)
    recorder = Recorder({("GET", "/me"): httpx.Response(429, headers={"Retry-After": "17"}, json={"detail": "x"})})
    with pytest.raises(ClientError, match=sentence):
        client(recorder).get("/me")
