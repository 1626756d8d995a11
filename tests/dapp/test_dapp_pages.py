"""Every page, for every role, in Streamlit's AppTest: what each role sees in the navigation, what a page shows
to the role it is for, and that the platform's refusals reach the user as sentences. The pages talk to the real
API (uvicorn, this process) on the demo's data and to the demo chain."""

from __future__ import annotations

import pytest
from dapp_browser import PASSWORD
from streamlit.testing.v1 import AppTest

from dapp.app import PAGE_SPECS, visible_pages
from dapp.views.common import Identity, identity_from_claims

pytestmark = pytest.mark.services

ALL_TITLES = {p.title for p in PAGE_SPECS}
EVERYONE = {"Wallet", "My account"}
EXPECTED = {
    "alice": {
        "My energy",
        "Time bank",
        "Flexibility",
        "Neighbourhood projects",
        "Polls",
        "Messages",
        "Community voice",
        *EVERYONE,
    },
    "carla": {
        "My energy",
        "Time bank",
        "Community dashboard",
        "Members and tasks",
        "GSE incentive and split",
        "Community onboarding",
        "Flexibility",
        "Neighbourhood projects",
        "Polls",
        "Messages",
        "Community voice",
        *EVERYONE,
    },
    "oscar": {"Reward models", *EVERYONE},
    "tina": {"Token policy", *EVERYONE},
    "audrey": {"Audit a bundle", "GSE incentive and split", "Neighbourhood projects", "Polls", *EVERYONE},
}
FILES = {p.title: f"views/{p.file}" for p in PAGE_SPECS}


def test_pages_follow_roles_without_a_server() -> None:
    assert {p.title for p in visible_pages(frozenset())} == EVERYONE
    assert {p.title for p in visible_pages(frozenset({"token-holder"}))} == EXPECTED["alice"]
    assert {p.title for p in visible_pages(frozenset({"platform-admin"}))} == {
        "Community dashboard",
        "GSE incentive and split",
        "Community onboarding",
        "Flexibility",
        *EVERYONE,
    }
    every = visible_pages(frozenset({"token-holder", "community-admin", "oracle-admin", "token-admin", "auditor"}))
    assert {p.title for p in every} == ALL_TITLES


def identity_of(realm, username: str, fresh: bool = False) -> Identity:
    """`username` signed in with a token from the realm: the one kept for reuse, or a new one (`fresh`), which no
    page's `st.cache_data` has seen yet."""
    import jwt

    token = realm.token(username, PASSWORD)["access_token"] if fresh else realm.access_token(username, PASSWORD)
    return identity_from_claims(jwt.decode(token, options={"verify_signature": False}), token, source="demo")


def app_as(realm, username: str | None, fresh: bool = False, language: str = "en") -> AppTest:
    """The dApp as `username`, in `language` picked explicitly (the dApp's default is Italian)."""
    at = AppTest.from_file("../../dapp/app.py", default_timeout=60)
    at.session_state["language"] = language
    if username is not None:
        at.session_state["identity"] = identity_of(realm, username, fresh)
    return at


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for e in (
            *at.title,
            *at.header,
            *at.subheader,
            *at.markdown,
            *at.caption,
            *at.info,
            *at.success,
            *at.error,
            *at.warning,
        )
    ]
    parts += [m.label + " " + str(m.value) for m in at.metric]
    return "\n".join(str(p) for p in parts)


def test_signed_out_visitor_sees_only_home_and_the_sign_in(demo_stack, realm) -> None:
    at = app_as(realm, None).run()
    assert not at.exception
    assert at.title[0].value == "Local Energy Community"
    assert "Sign in from the sidebar" in texts(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not registered for a visitor
        at.switch_page("views/wallet.py")


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_opens_its_pages_and_no_other(demo_stack, realm, username) -> None:
    for title in sorted(ALL_TITLES):
        at = app_as(realm, username).run()
        if title not in EXPECTED[username]:
            # The page is not in this role's navigation at all, so no URL or click can reach it.
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(FILES[title])
            continue
        at.switch_page(FILES[title]).run()
        assert not at.exception, f"{username} on {title}: {at.exception}"
        assert title in [heading.value for heading in at.title], f"{username} should see {title}"


def test_member_sees_own_energy_comparison_bands_and_tokens(demo_stack, realm) -> None:
    at = app_as(realm, "alice").run()
    at.switch_page("views/member.py").run()
    assert not at.exception
    body = texts(at)
    for expected in (
        "Load",
        "Production",
        "Self-consumption",
        "Self-sufficiency",
        "You and the community",
        "A day in detail",
        "Tokens earned",
        "Ranking (last 30 days)",
    ):
        assert expected in body, expected
    load = next(m for m in at.metric if m.label == "Load")
    assert load.value.endswith("kWh") and float(load.value.split()[0].replace(",", "")) > 0
    claimed = next(m for m in at.metric if m.label.startswith("Rewards claimed"))
    assert (
        claimed.value.endswith(" hours") and float(claimed.value.split()[0].replace(",", "")) > 0
    )  # the oracle claimed the demo period for every member
    assert "of 8" in next(m for m in at.metric if m.label.startswith("Ranking")).value


def test_community_admin_dashboard_has_both_levels(demo_stack, realm) -> None:
    at = app_as(realm, "carla").run()
    at.switch_page("views/community_dashboard.py").run()
    assert not at.exception
    # The two levels are one at a time (a chart in a hidden tab came out 25 px tall): overview first.
    assert at.button_group(key="dash_level").value == "overview"
    table = at.dataframe[0].value
    # The demo's eight members, and any member an earlier test added (the stack is shared by the session).
    count = int(table["Members"][0])
    assert count >= 8 and int(table["Devices"][0]) >= 8
    assert "Tokens" in texts(at)
    at.button_group(key="dash_level").set_value("details").run()
    assert not at.exception
    body = texts(at)
    assert "Percentiles across members" in body and "Ranking by self-sufficiency" in body
    members = next(
        d.value
        for d in at.dataframe
        if "Self-sufficiency %" in d.value.columns
        and "Member" in d.value.columns
        and "Energy profile" in d.value.columns
    )
    assert len(members) == count  # one row per member the overview counts
    # The oracle's anomalies and clusters: a table or a sentence each, never a trace.
    assert "**Anomalies**" in body and "**Load-curve clusters**" in body
    assert "no load-curve clusters yet" in body or any("Coefficient of variation" in d.value for d in at.dataframe)
    assert "no anomaly" in body or any("Sentence" in d.value for d in at.dataframe)
    assert "does not publish them yet" not in body and not at.error


def test_member_is_refused_the_admin_routes_with_a_sentence(demo_stack, realm) -> None:
    # Alice forces the dashboard's data route: the API answers 403 and the page shows the sentence, not a trace.
    from dapp.client import Api, ClientError

    # Outside a page run the client speaks the default language, Italian.
    with pytest.raises(ClientError, match="non ha il ruolo"):
        Api(identity_of(realm, "alice").token).members(1)


def test_oracle_admin_sees_models_on_chain(demo_stack, realm) -> None:
    at = app_as(realm, "oscar").run()
    at.switch_page("views/oracle_admin.py").run()
    assert not at.exception
    models = at.dataframe[0].value
    assert "lec-default" in set(models["name"])
    assert any('"max_per_period"' in p for p in models["params"])
    at.text_area(key="oracle_params").input('{"a": 1.5}').run()
    assert any("integer" in e.value.lower() or "missing" in e.value.lower() for e in at.error)


def test_token_admin_sees_the_policy(demo_stack, realm) -> None:
    at = app_as(realm, "tina").run()
    at.switch_page("views/token_admin.py").run()
    assert not at.exception
    fee = next(m for m in at.metric if m.label == "Transfer fee")
    assert fee.value == "1.00 %"  # the seed's policy, read from the chain
    assert len(at.dataframe[0].value) == 8


def test_auditor_verifies_a_bundle_check_by_check(demo_stack, realm) -> None:
    at = app_as(realm, "audrey").run()
    at.switch_page("views/auditor.py").run()
    assert not at.exception
    alice_wallet = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    # The auditor picks the member by name; the wallet field is for anyone not in the list.
    member = at.selectbox(key="audit_member")
    assert any(o.startswith("Alice ") for o in member.options)  # by display name, not by address
    member.set_value(alice_wallet).run()
    at.button(key="audit_fetch").click().run()
    assert not at.exception, at.exception
    at.button(key="audit_run").click().run()
    assert not at.exception
    passed = [s.value for s in at.success]
    assert any("Every check passed" in p for p in passed), [e.value for e in at.error]
    assert len(passed) >= 4


def test_pages_say_when_the_api_is_down(realm, monkeypatch) -> None:
    from tests.support.ports import free_port

    monkeypatch.setenv("LEC_API_URL", f"http://127.0.0.1:{free_port()}/api/v1")  # nothing listens there
    for page in ("views/member.py", "views/community_dashboard.py"):
        at = app_as(realm, "carla", fresh=True).run()  # a token whose answers no earlier test left in the cache
        at.switch_page(page).run()
        assert not at.exception
        assert any("The platform does not answer right now" in e.value for e in at.error), page
        assert not any("lec api" in e.value or "LEC_" in e.value for e in at.error), page


def test_community_admin_publishes_tasks_and_resolves_disputes(demo_stack, realm) -> None:
    at = app_as(realm, "carla").run()
    at.switch_page("views/community_admin.py").run()
    assert not at.exception
    assert {"Registration requests", "Members", "Community tasks", "Disputes"} <= {s.value for s in at.subheader}
    publish = at.button(key="cadmin_task_send")
    assert publish.disabled  # nothing to publish yet
    at.text_input(key="cadmin_task_title_text").input("Garden").run()
    at.text_area(key="cadmin_task_text").input("Water the community garden on Saturday").run()
    at.text_input(key="cadmin_task_price").input("3").run()
    assert not at.button(key="cadmin_task_send").disabled
    at.button(key="cadmin_task_send").click().run()
    # No wallet in AppTest: the page asks for one instead of sending anything.
    assert any("Connect your wallet first" in e.value for e in at.error)
    at.text_input(key="cadmin_task_price").input("two").run()
    assert any("“two” is not a number of hours" in e.value for e in at.error)
