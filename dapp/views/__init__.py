"""The dApp's pages, one module per job; `app.py` shows each to the roles that do that job."""
