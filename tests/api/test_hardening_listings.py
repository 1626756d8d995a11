"""Listing text: control characters and NUL stripped, everything else kept verbatim (escaped where it is shown).

Issue 17, API hardening 9.
"""

from __future__ import annotations

from api_helpers import bearer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from dapp.views.common import plain
from lec.db.models import Community, User, UserCommunity
from lec.db.models.market import Listing
from lec.market.hashing import description_hash
from lec.market.listings import clean_text

WALLET = "0x" + "5e" * 20


def _member_of_a_market(engine, keycloak, new_user) -> tuple[int, dict[str, str]]:  # noqa: ANN001
    username = new_user("token-holder")
    with Session(engine) as s:
        community = Community(name="Text LEC", chain_community_id=96)
        user = User(external_id=keycloak.realm.find_user(username).id, name="T", surname="X", email="t@e.org")
        s.add_all([community, user])
        s.flush()
        s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet=WALLET, active=True))
        s.commit()
        return community.id, bearer(keycloak.mint(username))


def test_a_listing_keeps_its_text_verbatim_without_control_characters(client, engine, keycloak, new_user):
    cid, token = _member_of_a_market(engine, keycloak, new_user)
    title = "Bike\x00 repair\x1b[31m <b>now</b>"
    description = "Line one\r\nLine\ttwo\x7f\x85 [link](http://x) ![i](http://t) é 😀"
    reply = client.post(
        f"/api/v1/communities/{cid}/listings",
        headers=token,
        json={
            "category": 0,
            "side": "offer",
            "title": title,
            "description": description,
            "hours": "1",
            "availability": "\x07any",
        },
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["title"] == "Bike repair[31m <b>now</b>"
    assert body["description"] == "Line one\nLine\ttwo [link](http://x) ![i](http://t) é 😀"
    assert body["availability"] == "any"
    assert body["description_hash"] == "0x" + description_hash(body["title"], body["description"]).hex()
    with Session(engine) as s:
        stored = s.get(Listing, body["id"])
        assert stored is not None and "\x00" not in stored.title
    found = client.get(f"/api/v1/communities/{cid}/listings?q=repair", headers=token).json()["items"]
    assert [item["id"] for item in found] == [body["id"]]


def test_a_title_of_control_characters_only_is_refused(client, engine, keycloak, new_user):
    cid, token = _member_of_a_market(engine, keycloak, new_user)
    reply = client.post(
        f"/api/v1/communities/{cid}/listings",
        headers=token,
        json={"category": 0, "side": "offer", "title": "\x00\x01", "description": "", "hours": "1"},
    )
    assert reply.status_code == 422 and "title" in reply.json()["detail"]


@settings(max_examples=200, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_clean_text_drops_exactly_the_unprintable(text):
    cleaned = clean_text(text)
    kept = [c for c in text if c in "\t\n" or not (c < " " or "\x7f" <= c <= "\x9f" or "\ud800" <= c <= "\udfff")]
    assert cleaned == "".join(kept)


def test_text_shown_by_the_dapp_is_escaped_markdown():
    shown = plain("Ann ![x](http://t/?a=1) [y](http://e) <b>*z*</b> $m$\n# h")
    for construct in ("![", "](", "<b>", "*z*", "$m$", "\n"):
        assert construct not in shown
    assert shown.replace("\\", "") == "Ann ![x](http://t/?a=1) [y](http://e) <b>*z*</b> $m$ # h"
