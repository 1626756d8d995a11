"""The dApp's entry point: `streamlit run dapp/app.py`. Signs the user in, shows the pages of their roles and
keeps the wallet bridge in the sidebar of every page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dapp.client import LEC_CHAIN_ID
from dapp.components import wallet
from dapp.i18n import language_picker, t
from dapp.views import common
from dapp.views.signin import renew_keycloak_sign_in, sign_in_sidebar

_PAGES = Path(__file__).parent / "views"  # not "pages": that name switches Streamlit to its v1 page discovery


@dataclass(frozen=True)
class PageSpec:
    file: str
    key: str  # the page's title in the translation table (its heading uses the same key)
    icon: str
    roles: frozenset[str]  # who sees it; empty = everyone signed in

    @property
    def title(self) -> str:
        """The English title (stable: tests and logs name pages by it)."""
        return t(self.key, "en")

    def label(self) -> str:
        """The title in the language picked in the sidebar."""
        return t(self.key)


HOLDERS = frozenset({"token-holder", "community-admin"})
PAGE_SPECS = (
    PageSpec("member.py", "member.title", ":material/bolt:", frozenset({"token-holder"})),
    PageSpec("timebank.py", "timebank.title", ":material/handshake:", HOLDERS),
    PageSpec("wallet.py", "wallet.title", ":material/account_balance_wallet:", frozenset()),
    PageSpec("account.py", "account.title", ":material/person:", frozenset()),
    PageSpec(
        "community_dashboard.py",
        "dashboard.title",
        ":material/dashboard:",
        frozenset({"community-admin", "platform-admin"}),
    ),
    PageSpec("community_admin.py", "cadmin.title", ":material/groups:", frozenset({"community-admin"})),
    PageSpec("oracle_admin.py", "oracle.title", ":material/model_training:", frozenset({"oracle-admin"})),
    PageSpec("token_admin.py", "tokenadmin.title", ":material/tune:", frozenset({"token-admin"})),
    PageSpec("auditor.py", "auditor.title", ":material/verified:", frozenset({"auditor"})),
    PageSpec(
        "incentive.py",
        "incentive.title",
        ":material/euro:",
        frozenset({"community-admin", "platform-admin", "auditor"}),
    ),
    PageSpec(
        "onboarding.py", "onboarding.title", ":material/upload_file:", frozenset({"community-admin", "platform-admin"})
    ),
    PageSpec(
        "flexibility.py",
        "flex.title",
        ":material/electric_meter:",
        frozenset({"token-holder", "community-admin", "platform-admin", "flexibility-buyer"}),
    ),
    PageSpec(
        "lab.py",
        "lab.projects.title",
        ":material/diversity_3:",
        frozenset({"token-holder", "community-admin", "auditor"}),
    ),
    PageSpec(
        "polls.py",
        "lab.polls.title",
        ":material/how_to_vote:",
        frozenset({"token-holder", "community-admin", "auditor"}),
    ),
    PageSpec("inbox.py", "lab.inbox.title", ":material/mail:", frozenset({"token-holder", "community-admin"})),
    PageSpec("voice.py", "lab.voice.title", ":material/forum:", frozenset({"token-holder", "community-admin"})),
)


def visible_pages(roles: frozenset[str]) -> list[PageSpec]:
    """The pages a person with these realm roles may open (a signed-in user always has the wallet)."""
    return [p for p in PAGE_SPECS if not p.roles or p.roles & roles]


def main() -> None:
    st.set_page_config(page_title="LEC dApp", page_icon=":material/solar_power:", layout="wide")
    identity = common.current_identity()
    if identity is not None and common.renewal_due(identity):
        renew_keycloak_sign_in()
    with st.sidebar:
        language_picker()
        sign_in_sidebar(identity)
        if identity is not None:
            wallet.render_bridge(LEC_CHAIN_ID)
    home = st.Page(str(_PAGES / "home.py"), title=t("home.nav"), icon=":material/home:", default=True)
    pages = [home]
    if identity is not None:
        pages += [st.Page(str(_PAGES / p.file), title=p.label(), icon=p.icon) for p in visible_pages(identity.roles)]
    page = st.navigation(pages, expanded=True)  # every page of the role listed, none folded under "View more"
    common.collapse_sidebar_after_navigation(page.url_path)
    if identity is not None and (status := common.wallet_status()):
        st.caption(status)  # on a phone the sidebar (and the wallet bridge in it) is closed
    page.run()


main()
