"""Audit a bundle."""

from __future__ import annotations

import streamlit as st

st.title("Audit a bundle")
