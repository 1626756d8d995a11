"""Members and tasks (community admin): add applicants as members — signed in the admin's own wallet, then the
request is approved —, see who is in the community, publish community tasks (their text kept in the listings,
their hash on chain) paid by the treasury, confirm them when done and resolve disputed deals."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dapp.client import ClientError
from dapp.components import calls, wallet
from dapp.i18n import t
from dapp.views import common, deals

P = "cadmin_"
KIND = {"citizen": 1, "stakeholder": 2}
PROFILE = {"consumer": 0, "prosumer": 1, "prostormer": 2}

identity = common.signed_in()
st.title(t("cadmin.title"))
membership = common.pick_membership(P, identity)
api = common.api(identity)
chain = common.chain()
chain_community_id = membership.chain_community_id
community = common.attempt(lambda: chain.community(chain_community_id)) if chain_community_id is not None else None


def _decide(registration_id: int, approve: bool) -> None:
    try:
        result = api.decide(membership.community_id, registration_id, approve)
        st.session_state[f"{P}decided"] = (registration_id, result.get("status"), None)
    except ClientError as exc:
        st.session_state[f"{P}decided"] = (registration_id, None, str(exc))


def _add_on_chain(registration_id: int, wallet_address: str, kind: str, profile: str) -> None:
    st.session_state[f"{P}adding"] = registration_id
    if community is None:
        return
    data = calls.encode_call(
        "addMember(address,uint8,uint8)", calls.checksum(wallet_address), KIND[kind], PROFILE[profile]
    )
    common.sign(f"{P}add_member", "CommunityToken", community.token, data)


st.subheader(t("cadmin.requests"))
registrations = common.attempt(lambda: api.registrations(membership.community_id))
decided = st.session_state.get(f"{P}decided")
if decided:
    rid, status, detail = decided
    if status is None:
        common.show_error(t("cadmin.request_failed", id=rid, detail=detail))
    else:
        st.success(t(f"cadmin.request_{status}", id=rid))
pending = [r for r in registrations or [] if r["status"] == "pending"]
if not pending:
    st.info(t("cadmin.no_requests"))
for r in pending:
    with st.container(border=True):
        st.markdown(
            t(
                "cadmin.request_line",
                id=r["id"],
                kind=t(f"cadmin.kind_{r['member_kind']}"),
                profile=t(f"cadmin.profile_{r['energy_profile']}"),
                wallet=r["wallet"] or t("cadmin.no_wallet"),
            )
        )
        on_chain = bool(
            r["wallet"] and chain_community_id is not None and chain.member(chain_community_id, r["wallet"]).active
        )
        a, b, c = st.columns(3)
        a.button(
            t("cadmin.add_on_chain"),
            key=f"{P}add_{r['id']}",
            on_click=_add_on_chain,
            args=(r["id"], r["wallet"] or "", r["member_kind"], r["energy_profile"]),
            type="primary" if not on_chain else "secondary",
            disabled=not r["wallet"] or on_chain,
            help=t("cadmin.add_help"),
        )
        b.button(
            t("cadmin.approve"),
            key=f"{P}approve_{r['id']}",
            on_click=_decide,
            args=(r["id"], True),
            type="primary" if on_chain else "secondary",
            disabled=not on_chain,
            help=t("cadmin.approve_help"),
        )
        c.button(t("cadmin.reject"), key=f"{P}reject_{r['id']}", on_click=_decide, args=(r["id"], False))
        if on_chain:
            st.caption(t("cadmin.on_chain_now"))
common.show_signing(f"{P}add_member", t("cadmin.added", id=st.session_state.get(f"{P}adding", "")))

st.subheader(t("cadmin.members"))
members = common.attempt(lambda: api.members(membership.community_id))
if members:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("cadmin.col_name"): f"{m['name']} {m['surname']}",
                    t("cadmin.col_kind"): t(f"cadmin.kind_{m['member_kind']}"),
                    t("cadmin.col_profile"): t(f"cadmin.profile_{m['energy_profile']}"),
                    t("cadmin.col_wallet"): m["wallet"],
                    t("cadmin.col_active"): m["active"],
                    t("cadmin.col_joined"): str(m["joined_at"])[:10],
                }
                for m in members
            ]
        ),
        hide_index=True,
    )

# Community tasks and disputes live on the community's marketplace contract: signed in the admin's wallet.
st.subheader(t("cadmin.tasks"))
market = chain.marketplace(chain_community_id) if chain_community_id is not None else None
if chain_community_id is None or market is None:
    st.info(t("timebank.no_market"))
    st.stop()
market_address: str = market.address
common.wallet_hint()
people = common.attempt(lambda: api.people(membership.community_id)) or []
names = {p["wallet"].lower(): p["name"] for p in people}
listings = common.attempt(lambda: api.listings(membership.community_id)) or []


def who(address: str) -> str:
    return names.get(address.lower(), t("timebank.anyone") if address.lower() == deals.ZERO else address)


def _publish(category: int, title: str, description: str, hours: str, taker: str, venue: str) -> None:
    """The task's text goes to the listings, then the admin's wallet publishes its hash on chain."""
    st.session_state.pop(f"{P}task_error", None)
    if wallet.state().account is None:  # no listing is kept for a task that cannot be signed
        st.session_state[f"{P}task_error"] = t("common.connect_first")
        return
    try:
        listing = api.post_listing(
            membership.community_id,
            {"side": "task", "category": category, "title": title, "description": description, "hours": hours},
        )
        data = calls.encode_call(
            "publishTask(uint8,uint256,bytes32,address,address)",
            category,
            int(listing["price_units"]),
            bytes.fromhex(listing["description_hash"].removeprefix("0x")),
            calls.checksum(taker) if taker else deals.ZERO,
            calls.checksum(venue) if venue else deals.ZERO,
        )
    except (ClientError, calls.CallError) as exc:
        st.session_state[f"{P}task_error"] = str(exc)
        return
    st.session_state[f"{P}task_title"] = title
    common.sign("task_publish", "Marketplace", market_address, data)


with st.container(border=True):
    category = st.selectbox(
        t("timebank.category"),
        list(deals.TASK_CATEGORIES),
        format_func=common.labels(deals.TASK_CATEGORIES, deals.category_name),
        key=f"{P}task_category",
    )
    title = st.text_input(t("cadmin.task_title"), key=f"{P}task_title_text", max_chars=120)
    description = st.text_area(t("cadmin.task_text"), key=f"{P}task_text", help=t("cadmin.task_text_help"))
    price_text = st.text_input(t("cadmin.task_hours"), key=f"{P}task_price", placeholder="3")
    taker_choice = st.selectbox(
        t("cadmin.task_taker"),
        ["", *names],
        format_func=common.labels(["", *names], lambda w: t("timebank.anyone") if not w else names[w]),
        key=f"{P}task_taker",
    )
    venue = st.text_input(t("cadmin.task_venue"), key=f"{P}task_venue", placeholder="0x…") if category == 7 else ""
    units = None
    if price_text:
        try:
            units = calls.to_units(price_text)
        except calls.CallError:
            common.show_error(t("timebank.bad_hours", value=price_text))
    ready = bool(units and description.strip())
    st.button(
        t("cadmin.publish"),
        key=f"{P}task_send",
        type="primary",
        disabled=not ready,
        on_click=_publish,
        args=(
            category,
            title.strip() or description.strip()[:60],
            description,
            price_text.strip(),
            taker_choice,
            venue,
        ),
    )
    if st.session_state.get(f"{P}task_error"):
        common.show_error(st.session_state[f"{P}task_error"])
    common.show_signing("task_publish", t("cadmin.published", title=st.session_state.get(f"{P}task_title", "")))

all_deals = deals.with_titles(chain.deals(chain_community_id), listings)
tasks = [d for d in all_deals if d["side"] == deals.TASK]
to_confirm = [d for d in tasks if d["state"] in (deals.ACCEPTED, deals.COMPLETED)]
if tasks:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("timebank.col_title"): d["title"],
                    t("timebank.col_state"): deals.state_name(d["state"]),
                    t("timebank.col_category"): deals.category_name(d["category"]),
                    t("timebank.col_hours"): deals.hours(d["price"]),
                    t("cadmin.taken_by"): who(d["provider"]),
                }
                for d in tasks
            ]
        ),
        hide_index=True,
    )
for d in to_confirm:
    st.button(
        t("cadmin.confirm_task", title=d["title"]),
        key=f"{P}task_confirm_{d['id']}",
        on_click=common.sign,
        args=("task_confirm", "Marketplace", market_address, calls.encode_call("confirm(uint256)", d["id"])),
    )
common.show_signing("task_confirm", t("cadmin.task_settled"))

st.subheader(t("cadmin.disputes"))
disputed = [d for d in all_deals if d["state"] == deals.DISPUTED]
if not disputed:
    st.info(t("cadmin.no_disputes"))
reasons = (common.attempt(lambda: api.dispute_reasons(membership.community_id)) or []) if disputed else []
for d in disputed:
    with st.container(border=True):
        st.markdown(
            t(
                "cadmin.dispute_line",
                title=common.plain(d["title"]),
                hours=deals.hours(d["price"]),
                provider=common.plain(who(d["provider"])),
                payer=common.plain(who(d["payer"])),
            )
        )
        given = [r for r in reasons if r["deal_id"] == d["id"]]
        for r in given:
            st.markdown(
                t(
                    "cadmin.dispute_reason",
                    name=common.plain(r["name"] or who(r["wallet"])),
                    reason=common.plain(r["reason"]),
                )
            )
        if not given:
            st.caption(t("cadmin.dispute_no_reason"))
        share = st.slider(t("cadmin.share"), 0, 100, 50, key=f"{P}resolve_share_{d['id']}", help=t("cadmin.share_help"))
        st.button(
            t("cadmin.resolve", title=d["title"]),
            key=f"{P}resolve_{d['id']}",
            on_click=common.sign,
            args=(
                "dispute_resolve",
                "Marketplace",
                market_address,
                calls.encode_call("resolve(uint256,uint16)", d["id"], share * 100),
            ),
        )
common.show_signing("dispute_resolve", t("cadmin.resolution"))
