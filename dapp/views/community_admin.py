"""Members and tasks."""

from __future__ import annotations

import streamlit as st

st.title("Members and tasks")
