"""What residents found trying the dApp, as regression tests (AppTest on the demo's data, and pure functions):
the member's cluster caption agrees with the admin's dashboard (bug 4), the monthly target is kept (bug 5),
errors carry no server paths or settings (bug 3), every page opens in Italian, amounts read as hours; and who may
call the time bank's new routes (people, ratings, profiles, targets)."""

from __future__ import annotations

import pytest
import requests
from dapp_browser import PASSWORD
from hypothesis import given
from hypothesis import strategies as st
from test_dapp_pages import app_as, texts

from dapp.app import PAGE_SPECS
from dapp.i18n import t
from dapp.views import deals
from dapp.views.common import resident_sentence

ROLE_OF_PAGE = {
    "member.py": "alice",
    "timebank.py": "alice",
    "wallet.py": "alice",
    "account.py": "alice",
    "community_dashboard.py": "carla",
    "community_admin.py": "carla",
    "oracle_admin.py": "oscar",
    "token_admin.py": "tina",
    "auditor.py": "audrey",
    "incentive.py": "carla",
    "onboarding.py": "carla",
    "flexibility.py": "alice",
    "lab.py": "alice",
    "polls.py": "alice",
    "inbox.py": "alice",
    "voice.py": "alice",
}


# ---------------------------------------------------------------------------------------------- pure


def test_oracle_sentences_lose_server_paths_settings_and_commands() -> None:
    raw = (
        "/srv/lec/data/periods/1/2025-01-01/period.json does not exist: run `lec oracle run` for that period "
        "first. No community admin key: set LEC_API_COMMUNITY_ADMIN_PRIVATE_KEY."
    )
    shown = resident_sentence(raw)
    assert "/srv" not in shown and "period.json" not in shown and "LEC_" not in shown and "lec oracle" not in shown
    assert "does not exist" in shown  # the sentence itself stays
    assert resident_sentence("Hours must be positive, not 'x'.") == "Hours must be positive, not 'x'."


@given(st.integers(min_value=0, max_value=10**30))
def test_hours_have_two_to_four_decimals_and_round_to_the_nearest(units: int) -> None:
    shown = deals.hours(units)
    whole, decimals = shown.replace(",", "").split(".")
    assert 2 <= len(decimals) <= 4
    assert abs(float(f"{whole}.{decimals}") - units / 10**18) <= 0.00005 + units / 10**18 * 1e-12


def test_deals_are_named_by_their_listing_and_next_steps_are_words() -> None:
    me, other = "0x" + "a" * 40, "0x" + "b" * 40
    deal = {"id": 7, "provider": me, "payer": other, "state": deals.ACCEPTED, "side": deals.OFFER}
    deal["descriptionHash"] = bytes.fromhex("11" * 32)
    [named] = deals.with_titles([deal], [{"description_hash": "0x" + "11" * 32, "title": "Ironing", "description": ""}])
    assert named["title"] == "Ironing"
    [unnamed] = deals.with_titles([deal], [])
    assert unnamed["title"] == t("deals.untitled", id=7)
    assert deals.next_step(deal, me) == t("deals.next_accepted_provider")
    assert deals.next_step(deal, other) == t("deals.next_accepted_payer")
    assert deals.actions(deal, me) == ["complete", "dispute"] and deals.actions(deal, other) == ["confirm", "dispute"]


# ---------------------------------------------------------------------------------------------- pages


@pytest.mark.services
@pytest.mark.parametrize("spec", PAGE_SPECS, ids=[p.file for p in PAGE_SPECS])
def test_every_page_opens_in_italian(demo_stack, realm, spec) -> None:
    at = app_as(realm, ROLE_OF_PAGE[spec.file], language="it").run()
    at.switch_page(f"views/{spec.file}").run()
    assert not at.exception, at.exception
    assert t(spec.key, "it") in [x.value for x in at.title]


@pytest.mark.services
def test_member_sees_the_cluster_the_dashboard_shows(demo_stack, realm) -> None:
    from stack import lec

    lec(
        demo_stack.env,
        "oracle", "cluster", "--community", "1", "--from", demo_stack.first_day.isoformat(),
        "--to", demo_stack.last_day.isoformat(), "-k", "2",
    )  # fmt: skip
    member = app_as(realm, "alice", fresh=True).run()
    member.switch_page("views/member.py").run()
    assert not member.exception
    body = texts(member)
    assert "You are in load-curve cluster" in body and "of 2" in body
    assert "once the API publishes clusters" not in body
    admin = app_as(realm, "carla", fresh=True).run()
    admin.switch_page("views/community_dashboard.py").run()
    admin.button_group(key="dash_level").set_value("details").run()
    assert not admin.exception
    shown = next(d.value for d in admin.dataframe if "Coefficient of variation" in d.value.columns)
    assert len(shown) == 2  # the same run, the same number of clusters


@pytest.mark.services
def test_the_monthly_target_is_kept_for_the_next_visit(demo_stack, realm) -> None:
    at = app_as(realm, "alice", fresh=True).run()
    at.switch_page("views/member.py").run()
    key = next(n.key for n in at.number_input if n.key and n.key.startswith("member_target"))
    at.number_input(key=key).set_value(25.0).run()
    assert not at.exception and not at.error
    again = app_as(realm, "alice", fresh=True).run()  # a new visit: a new session
    again.switch_page("views/member.py").run()
    assert again.number_input(key=key).value == 25.0


# ---------------------------------------------------------------------------------------------- routes


@pytest.mark.services
def test_who_may_use_the_time_bank_routes(demo_stack, realm) -> None:
    api = demo_stack.api_url

    def call(method: str, path: str, user: str | None, body: dict | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {realm.access_token(user, PASSWORD)}"} if user else {}
        return requests.request(method, f"{api}{path}", json=body, headers=headers, timeout=30)

    alice = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert call("GET", "/communities/1/people", None).status_code == 401
    people = call("GET", "/communities/1/people", "alice")
    assert people.status_code == 200 and alice in {p["wallet"] for p in people.json()}
    assert call("GET", "/communities/1/people", "audrey").status_code == 200  # the auditor picks by name
    assert call("GET", "/communities/1/people", "oscar").status_code == 403  # no role in the community
    # Targets are each member's own; an auditor has none to keep.
    assert call("PUT", "/communities/1/me/target", "alice", {"hours": "12.5"}).json() == {"hours": "12.5"}
    assert call("GET", "/communities/1/me/target", "alice").json() == {"hours": "12.5"}
    assert call("PUT", "/communities/1/me/target", "audrey", {"hours": "1"}).status_code == 403
    assert call("PUT", "/communities/1/me/target", "alice", {"hours": "-1"}).status_code == 422
    # Ratings: only sides of a settled deal; an auditor never rates; a deal that does not exist is a 404.
    assert call("POST", "/communities/1/deals/1/rating", "audrey", {"stars": 5}).status_code == 403
    assert call("POST", "/communities/1/deals/1/rating", "alice", {"stars": 6}).status_code == 422
    assert call("POST", "/communities/1/deals/999999/rating", "alice", {"stars": 5}).status_code == 404
    profile = call("GET", f"/communities/1/profiles/{alice}", "alice")
    assert profile.status_code == 200 and profile.json()["name"].startswith("Alice ")
    assert call("GET", "/communities/1/profiles/nonsense", "alice").status_code == 422


@pytest.mark.services
def test_leaving_the_last_community_takes_back_the_member_role(demo_stack, realm) -> None:
    """Identity bug: leaving one's last community kept the `token-holder` realm role in Keycloak."""
    import secrets

    from sqlmodel import Session

    from lec.db.models import User, UserCommunity
    from lec.db.session import get_engine

    username = f"lea{secrets.token_hex(3)}"
    subject = realm.add_user(username, PASSWORD, roles=["token-holder"], first_name="Lea")
    with Session(get_engine(demo_stack.env["DATABASE_URL"])) as session:
        user = User(external_id=subject, name="Lea", surname="Via", email=f"{username}@example.org")
        session.add(user)
        session.flush()
        # No wallet on chain yet: leaving needs no chain transaction, only the platform and Keycloak.
        session.add(UserCommunity(community_id=1, user_id=user.id or 0, wallet=None, active=True))
        session.commit()

    def roles() -> set[str]:
        return {r["name"] for r in realm.admin().get_realm_roles_of_user(subject)}

    assert "token-holder" in roles()
    token = realm.token(username, PASSWORD)["access_token"]
    reply = requests.delete(
        f"{demo_stack.api_url}/me/communities/1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert reply.status_code == 204, reply.text
    assert "token-holder" not in roles()
    # The pages follow: a new sign-in has no member pages any more.
    claims = realm.token(username, PASSWORD)["access_token"]
    import jwt

    assert "token-holder" not in jwt.decode(claims, options={"verify_signature": False})["realm_access"]["roles"]
