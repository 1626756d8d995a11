"""Time bank: find offers, requests and community tasks by their title, category, price in hours or the name of
who posted them; post an offer or a request (its text off chain, its hash on chain, signed in the wallet); take
a deal through accept → complete → confirm (or dispute); rate the other side once a deal is settled; see one's
profile (completed deals, average rating). Every transaction is signed in the wallet, after its preview."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dapp.client import LEC_CHAIN_ID, ClientError
from dapp.components import calls, wallet
from dapp.i18n import t
from dapp.views import common, deals

P = "tb_"  # session_state prefix of this page
ACTIONS = ("accept", "complete", "confirm", "dispute")

identity = common.signed_in()
st.title(t("timebank.title"))
st.caption(t("timebank.intro"))
membership = common.pick_membership(P, identity)
api = common.api(identity)
chain = common.chain()
if membership.chain_community_id is None:
    st.info(t("timebank.no_market"))
    st.stop()
chain_community_id: int = membership.chain_community_id
community = common.attempt(lambda: chain.community(chain_community_id))
market = chain.marketplace(chain_community_id) if community is not None else None
if community is None or market is None:
    st.info(t("timebank.no_market"))
    st.stop()
market_address: str = market.address
token_address: str = community.token
w = wallet.state()
account = w.account
if account is None:
    st.info(t("timebank.connect_first"))
elif not w.on_chain(LEC_CHAIN_ID):
    st.warning(t("common.wrong_network", chain=w.chain_id, lec=LEC_CHAIN_ID))
else:
    st.caption(t("timebank.signing_as", account=account))

people = common.attempt(lambda: api.people(membership.community_id)) or []
names = {p["wallet"].lower(): p["name"] for p in people}
listings = common.attempt(lambda: api.listings(membership.community_id)) or []
all_deals = deals.with_titles(chain.deals(chain_community_id), listings)
by_id = {d["id"]: d for d in all_deals}
policy = chain.token_policy(chain_community_id)


def who(address: str) -> str:
    """One display name per person; the treasury and strangers in words."""
    if address.lower() == token_address.lower():
        return t("timebank.treasury")
    if address.lower() == deals.ZERO:
        return t("timebank.anyone")
    return names.get(address.lower(), address[:6] + "…" + address[-4:])


def title_of(deal_id: int | None) -> str:
    deal = by_id.get(deal_id) if deal_id is not None else None
    return deal["title"] if deal else t("deals.untitled", id=deal_id)


def policy_sentence(category: int, price: int) -> str:
    """The fee and incentive a deal of `category` pays when settled: shown before anyone signs."""
    rules = policy["categories"][category]
    fee = price * rules["fee_bps"] // 10_000
    incentive = price * rules["incentive_bps"] // 10_000
    return t(
        "timebank.policy",
        fee=deals.hours(fee),
        fee_pct=f"{rules['fee_bps'] / 100:.2f}",
        incentive=deals.hours(incentive),
        incentive_pct=f"{rules['incentive_bps'] / 100:.2f}",
    )


def act(action: str, deal_id: int) -> None:
    """A button callback: remember which deal was acted upon (the selection stays on it), then sign."""
    st.session_state[f"{P}acted_{action}"] = deal_id
    st.session_state[f"{P}want"] = deal_id  # selected in "My deals" as soon as it is there (after an acceptance)
    common.sign(f"{P}{action}", "Marketplace", market_address, calls.encode_call(f"{action}(uint256)", deal_id))


def dispute(deal_id: int) -> None:
    """A button callback: keep the reason (off chain, for the community admin), then sign the dispute."""
    reason = st.session_state.get(f"{P}dispute_reason_{deal_id}", "").strip()
    if not reason:
        st.session_state[f"{P}dispute_error"] = t("timebank.dispute_needs_reason")
        return
    try:
        api.dispute_reason(membership.community_id, deal_id, reason)
    except ClientError as exc:
        st.session_state[f"{P}dispute_error"] = str(exc)
        return
    act("dispute", deal_id)


def approve(purpose: str, deal_id: int | None, units: int) -> None:
    if deal_id is not None:
        st.session_state[f"{P}want_pick"] = deal_id
    data = calls.encode_call("approve(address,uint256)", calls.checksum(market_address), units)
    common.sign(purpose, "CommunityToken", token_address, data)


def escrow_ready(units: int) -> bool:
    return account is not None and chain.allowance(chain_community_id, account, market_address) >= units


# ------------------------------------------------------------------------------------------------ find
st.subheader(t("timebank.find"))
f1, f2, f3 = st.columns([3, 2, 2])
query = f1.text_input(t("timebank.search"), key=f"{P}q", placeholder=t("timebank.search_hint"))
kinds = {"all": t("timebank.kind_all"), "offer": t("deals.side_offer"), "request": t("deals.side_request")}
kinds["task"] = t("deals.side_task")
kind = f2.selectbox(t("timebank.kind"), list(kinds), format_func=kinds.__getitem__, key=f"{P}kind")
category_filter = f3.selectbox(
    t("timebank.category"),
    [-1, *range(8)],
    format_func=common.labels(
        [-1, *range(8)], lambda c: t("timebank.category_any") if c < 0 else deals.category_name(c)
    ),
    key=f"{P}category",
)


def matches(d: dict[str, Any]) -> bool:
    if kind != "all" and deals.SIDES[d["side"]] != kind:
        return False
    if category_filter >= 0 and d["category"] != category_filter:
        return False
    words = query.lower().split()
    haystack = " ".join(
        (
            d["title"],
            d["description"],
            deals.category_name(d["category"]),
            who(deals.creator(d)),
            deals.hours(d["price"]),
        )
    ).lower()
    return all(word in haystack for word in words)


open_deals = [d for d in all_deals if d["state"] == deals.OPEN and matches(d)]
if not open_deals:
    st.info(t("timebank.nothing_found"))
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("timebank.col_title"): d["title"],
                    t("timebank.col_kind"): deals.side_name(d["side"]),
                    t("timebank.col_category"): deals.category_name(d["category"]),
                    t("timebank.col_hours"): deals.hours(d["price"]),
                    t("timebank.col_by"): who(deals.creator(d)),
                }
                for d in open_deals
            ]
        ),
        hide_index=True,
    )
    open_ids = [d["id"] for d in open_deals]
    wanted = st.session_state.get(f"{P}want_pick")
    # The widget is new whenever the results change, so its label can never show a listing no longer listed.
    picked_id = st.selectbox(
        t("timebank.pick"),
        open_ids,
        index=open_ids.index(wanted) if wanted in open_ids else 0,
        format_func=common.labels(open_ids, lambda i: f"{by_id[i]['title']} · {who(deals.creator(by_id[i]))}"),
        key=f"{P}pick_" + "_".join(str(i) for i in open_ids[:50]),
    )
    picked = by_id[picked_id]
    with st.container(border=True):
        st.markdown(f"**{common.plain(picked['title'])}** · {deals.side_name(picked['side'])}")
        if picked["description"]:
            st.markdown(common.plain(picked["description"]))
        st.caption(
            t(
                "timebank.terms",
                hours=deals.hours(picked["price"]),
                category=deals.category_name(picked["category"]),
                by=who(deals.creator(picked)),
            )
        )
        st.info(policy_sentence(picked["category"], picked["price"]), icon=":material/receipt_long:")
        can = account is not None and "accept" in deals.actions(picked, account)
        if account is not None and not can:
            st.caption(t("timebank.cannot_accept"))
        if can and deals.pays_on_accept(picked) and not escrow_ready(picked["price"]):
            st.info(t("timebank.escrow_first", hours=deals.hours(picked["price"])))
            st.button(
                t("timebank.approve_escrow"),
                key=f"{P}approve_accept",
                on_click=approve,
                args=(f"{P}approve", picked_id, picked["price"]),
            )
        else:
            st.button(
                t("timebank.accept", title=picked["title"]),
                key=f"{P}accept",
                type="primary",
                disabled=not can,
                on_click=act,
                args=("accept", picked_id),
            )

# ------------------------------------------------------------------------------------------------ post
st.subheader(t("timebank.post"))


def _post(side: str, category: int, title: str, description: str, hours: str, availability: str) -> None:
    """Keeps the text in the listings table, then asks the wallet to put its hash on chain."""
    st.session_state.pop(f"{P}post_error", None)
    if wallet.state().account is None:  # no listing is kept for a deal that cannot be signed
        st.session_state[f"{P}post_error"] = t("common.connect_first")
        return
    try:
        listing = api.post_listing(
            membership.community_id,
            {
                "side": side,
                "category": category,
                "title": title,
                "description": description,
                "hours": hours,
                "availability": availability,
            },
        )
    except ClientError as exc:
        st.session_state[f"{P}post_error"] = str(exc)
        return
    st.session_state[f"{P}posted_title"] = listing["title"]
    units = int(listing["price_units"])
    digest = bytes.fromhex(listing["description_hash"].removeprefix("0x"))
    if side == "offer":
        data = calls.encode_call(
            "offer(uint8,uint256,bytes32,address,address,uint16)", category, units, digest, deals.ZERO, deals.ZERO, 0
        )
    else:
        data = calls.encode_call(
            "request(uint8,uint256,bytes32,address,address)", category, units, digest, deals.ZERO, deals.ZERO
        )
    common.sign(f"{P}post", "Marketplace", market_address, data)


with st.container(border=True):
    p1, p2 = st.columns(2)
    side = p1.radio(
        t("timebank.post_side"),
        ["offer", "request"],
        format_func=common.labels(["offer", "request"], lambda s: t(f"timebank.post_{s}")),
        key=f"{P}post_side",
        horizontal=True,
    )
    post_category = p2.selectbox(
        t("timebank.category"),
        list(deals.MEMBER_CATEGORIES),
        format_func=common.labels(deals.MEMBER_CATEGORIES, deals.category_name),
        key=f"{P}post_category",
    )
    post_title = st.text_input(t("timebank.post_title"), key=f"{P}post_title", max_chars=120)
    post_text = st.text_area(t("timebank.post_text"), key=f"{P}post_text", max_chars=4000)
    q1, q2 = st.columns(2)
    post_hours = q1.text_input(t("timebank.post_hours"), key=f"{P}post_hours", placeholder="1.5")
    post_when = q2.text_input(t("timebank.post_when"), key=f"{P}post_when", max_chars=200)
    post_units = None
    if post_hours:
        try:
            post_units = calls.to_units(post_hours)
        except calls.CallError:
            common.show_error(t("timebank.bad_hours", value=post_hours))
    if post_units:
        st.info(policy_sentence(post_category, post_units), icon=":material/receipt_long:")
    ready = bool(account and post_units and post_title.strip())
    if ready and post_units and side == "request" and not escrow_ready(post_units):
        st.info(t("timebank.request_escrow", hours=deals.hours(post_units)))
        st.button(
            t("timebank.approve_escrow"),
            key=f"{P}approve_request",
            on_click=approve,
            args=(f"{P}approve", None, post_units),
        )
        ready = False
    st.button(
        t("timebank.post_sign"),
        key=f"{P}post_send",
        type="primary",
        disabled=not ready,
        on_click=_post,
        args=(side, post_category, post_title.strip(), post_text, post_hours.strip(), post_when),
    )
    if st.session_state.get(f"{P}post_error"):
        common.show_error(st.session_state[f"{P}post_error"])
    common.show_signing(f"{P}post", t("timebank.posted", title=st.session_state.get(f"{P}posted_title", "")))
common.show_signing(f"{P}approve", t("timebank.approval"))

# ------------------------------------------------------------------------------------------------ my deals
st.subheader(t("timebank.mine"))
if account is None:
    st.info(t("timebank.connect_first"))
    st.stop()
me: str = account
mine = [d for d in all_deals if deals.is_party(d, me)]
for action in ACTIONS:
    acted = st.session_state.get(f"{P}acted_{action}")
    if acted is not None:
        common.show_signing(f"{P}{action}", t(f"timebank.done_{action}", title=title_of(acted)))
if not mine:
    st.info(t("timebank.no_deals"))
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("timebank.col_title"): d["title"],
                    t("timebank.col_state"): deals.state_name(d["state"]),
                    t("timebank.col_hours"): deals.hours(d["price"]),
                    t("timebank.col_with"): who(d["payer"] if d["provider"].lower() == me.lower() else d["provider"]),
                    t("timebank.col_next"): deals.next_step(d, me),
                }
                for d in mine
            ]
        ),
        hide_index=True,
    )
    ids = [d["id"] for d in mine]
    if st.session_state.get(f"{P}want") in ids:
        st.session_state[f"{P}deal"] = st.session_state.pop(f"{P}want")
    if st.session_state.get(f"{P}deal") not in ids:
        st.session_state.pop(f"{P}deal", None)
    deal_id = st.selectbox(
        t("timebank.deal"),
        ids,
        format_func=common.labels(ids, lambda i: f"{by_id[i]['title']} · {deals.state_name(by_id[i]['state'])}"),
        key=f"{P}deal",
    )
    deal = by_id[deal_id]
    st.caption(deals.next_step(deal, me))
    possible = [a for a in deals.actions(deal, me) if a != "accept"]
    if "confirm" in possible:
        split = chain.settlement_preview(chain_community_id, deal_id)
        st.info(
            t(
                "timebank.confirm_preview",
                provider=deals.hours(split["to_provider"]),
                fee=deals.hours(split["fee"]),
                incentive=deals.hours(split["incentive"]),
            ),
            icon=":material/receipt_long:",
        )
    if "dispute" in possible:
        st.caption(t("timebank.dispute_help"))
        st.text_area(
            t("timebank.dispute_reason"),
            key=f"{P}dispute_reason_{deal_id}",
            max_chars=1000,
            placeholder=t("timebank.dispute_reason_hint"),
        )
    if error := st.session_state.pop(f"{P}dispute_error", None):
        common.show_error(error)
    columns = st.columns(max(len(possible), 1))
    for column, action in zip(columns, possible, strict=False):
        column.button(
            t(f"timebank.do_{action}", title=deal["title"]),
            key=f"{P}do_{action}",
            type="primary" if action in ("confirm", "complete") else "secondary",
            on_click=dispute if action == "dispute" else act,
            args=(deal_id,) if action == "dispute" else (action, deal_id),
        )

    # Ratings: once a deal is settled, each side rates the other once (not the treasury of a community task).
    if deal["state"] in (deals.SETTLED, deals.RESOLVED) and deal["side"] != deals.TASK:
        mine_profile = common.attempt(lambda: api.profile(membership.community_id, me)) or {}
        if deal_id in mine_profile.get("rated_by_me", []):
            st.caption(t("timebank.rated"))
        else:
            other = deal["payer"] if deal["provider"].lower() == me.lower() else deal["provider"]
            with st.form(f"{P}rate_form_{deal_id}", border=True):
                st.markdown(t("timebank.rate_who", name=common.plain(who(other)), title=common.plain(deal["title"])))
                stars = st.radio(
                    t("timebank.rate_stars"),
                    [1, 2, 3, 4, 5],
                    index=None,
                    format_func=lambda n: "★" * n + "☆" * (5 - n),
                    horizontal=True,
                    key=f"{P}stars_{deal_id}",
                )
                comment = st.text_input(t("timebank.rate_comment"), key=f"{P}comment_{deal_id}", max_chars=500)
                sent = st.form_submit_button(t("timebank.rate_send"))
            if sent:
                if stars is None:
                    common.show_error(t("timebank.rate_pick"))
                else:
                    try:
                        api.rate(membership.community_id, deal_id, int(stars), comment)
                        st.success(t("timebank.rate_done", title=deal["title"]))
                    except ClientError as exc:
                        common.show_error(str(exc))

# ------------------------------------------------------------------------------------------------ profile
st.subheader(t("timebank.profile"))
profile = common.attempt(lambda: api.profile(membership.community_id, me))
if profile is not None:
    c1, c2 = st.columns(2)
    c1.metric(t("timebank.completed"), profile["completed_deals"])
    average = profile["average_rating"]
    c2.metric(t("timebank.average"), "—" if average is None else f"{average:.1f} / 5")
    for r in profile["ratings"][:10]:
        st.markdown(
            "★" * r["stars"] + "☆" * (5 - r["stars"]) + f" · {common.plain(who(r['rater']))}"
            + (f" — {common.plain(r['comment'])}" if r["comment"] else "")
        )  # fmt: skip
