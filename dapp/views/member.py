"""My energy."""

from __future__ import annotations

import streamlit as st

st.title("My energy")
