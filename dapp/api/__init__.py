"""The platform's HTTP API (FastAPI) behind Keycloak: identity flows, community data, proofs, ingestion."""
