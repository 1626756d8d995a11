"""The data side of the LEC platform: ingest, store, clean, KPIs, rewards, proofs, chain client, pipeline."""
