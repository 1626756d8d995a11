"""The user side of the LEC platform: the API (FastAPI + Keycloak) and the Streamlit dApp."""
