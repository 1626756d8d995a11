"""What several test folders, and the benchmarks, share — plain functions and classes, no fixtures (the
conftest.py files wrap them):

- `ports`: a free loopback port and waiting for a server to listen on it;
- `tools`: the repository's root and the environment for the project's command-line tools (ape, lec, anvil);
- `services`: real PostgreSQL 15 and Mosquitto 2, each on a free port in a temp dir;
- `anvil`: a real anvil (chain id 1981, free gas by default), its test keys, raw JSON-RPC;
- `platform`: the platform's contracts deployed with plain web3 (no ape), for the API's and the oracle's tests.

Import it as `tests.support.<module>` (see tests/__init__.py for why that name cannot be shadowed).
"""
