"""Streamlit components of the dApp (the EIP-1193 wallet bridge) and the transactions it carries."""
