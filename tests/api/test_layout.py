"""The API's layout rules that a linter does not check: routes import no other route module, and nothing under
dapp/ shadows python-keycloak when `streamlit run dapp/app.py` puts dapp/ first on `sys.path`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import dapp.api.routes

ROOT = Path(__file__).resolve().parents[2]
ROUTES = Path(dapp.api.routes.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_route_module_imports_another() -> None:
    for path in sorted(ROUTES.glob("*.py")):
        routes = {m for m in _imported_modules(path) if m.startswith("dapp.api.routes.")}
        assert routes == set(), (
            f"{path.name} imports {sorted(routes)}: shared code belongs in deps, errors, schemas or services"
        )


def test_keycloak_is_python_keycloak_with_dapp_first_on_the_path() -> None:
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import keycloak; print(keycloak.__file__)"
    found = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "dapp")], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert "site-packages" in found and Path(found).parent.name == "keycloak"
