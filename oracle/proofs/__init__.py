"""Salted device-day commitments, community aggregates and OpenZeppelin-compatible Merkle trees."""
