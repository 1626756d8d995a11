"""Shared by the dApp's browser tests (imported by name: tests/dapp is on sys.path under pytest)."""

PASSWORD = "demo-password"  # of the demo users created in the local realm for the tests
