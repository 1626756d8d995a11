"""One Keycloak for a whole mutation run of the API's modules (security, deps, guards).

Each mutant runs the API's tests in a new pytest process, and each of those would start its own Keycloak (40 s to
6 min on this shared machine) for a test that takes seconds. tests/mutation/run.sh starts this script instead when
a config says `# keycloak: shared`: it starts one Keycloak (tests.support.keycloak, the realm as shipped), writes
`PORT:STATE` to the file named on the command line once it answers, and stops it when run.sh ends it (SIGTERM).
run.sh exports that as LEC_TEST_KEYCLOAK, so the tests attach to it (`KeycloakServer.for_tests`). The tests are
the same and run whole: users are recreated by name (`add_user` deletes an existing one first), and only the API's
code, running in the pytest process, is mutated, never Keycloak's.

Usage: python tests/mutation/shared_keycloak.py SPEC_FILE (run.sh runs it with the project's Python, PYTHONPATH=root).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from tests.support.keycloak import KeycloakServer


def main(spec_file: Path) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = KeycloakServer().launch()
    try:
        server.wait_ready().prepare()
        partial = spec_file.with_suffix(".tmp")
        partial.write_text(f"{server.port}:{server.state}\n")
        partial.replace(spec_file)
        print(f"Keycloak for the mutation run on {server.url} (state {server.state})", flush=True)
        stop.wait()
    finally:
        spec_file.unlink(missing_ok=True)
        server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
