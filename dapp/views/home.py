"""Home: what the platform is, who is signed in and what each role finds here; a newcomer creates an account."""

from __future__ import annotations

import streamlit as st

from dapp.i18n import t
from dapp.views import common
from dapp.views.signin import registration_url

identity = common.current_identity()
st.title(t("home.title"))
st.markdown(t("home.intro"))
if identity is None:
    st.info(t("home.sign_in"))
    url = registration_url()
    if url:
        st.link_button(t("home.register"), url, icon=":material/person_add:")
        st.caption(t("home.register_help"))
else:
    st.subheader(t("home.welcome", name=common.plain(identity.name)))
    for role in sorted(identity.roles):
        st.markdown(f"- {t(f'home.job_{role}')}")
    if not identity.roles:
        st.markdown(t("home.no_role"))
with st.expander(t("home.glossary")):
    for term in ("hour", "self_consumption", "self_sufficiency", "bands", "escrow", "proof", "wallet", "cluster"):
        st.markdown(f"**{t(f'home.term_{term}')}** — {t(f'home.def_{term}')}")
