"""The test suite, a package so that its support code is importable as `tests.support` (by the tests and by
`benchmarks/`) without any sys.path surgery.

Why `tests` is safe as a top-level name here although the venv holds another one (pymultihash installs a
`tests` package into site-packages): a regular package is taken from the first sys.path entry that has it, and
every way this project runs Python puts the repository first — pytest (`pythonpath = ["."]` in pyproject.toml,
inserted at the front), `python -m benchmarks.<name>` from the repository (`make bench-*`: the working
directory comes first) and `lint-imports` (inserts the working directory first). Were ours ever shadowed, the
failure is loud, never silent: pytest refuses a `tests.conftest` loaded from another path
(ImportPathMismatchError) and `import tests.support` fails.

The folders below stay plain directories (no `__init__.py`): pytest puts each on sys.path and their modules
import their own folder's helpers by name (`api_helpers`, `dapp_browser`, …), as before.
"""
