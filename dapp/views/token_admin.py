"""Token policy."""

from __future__ import annotations

import streamlit as st

st.title("Token policy")
