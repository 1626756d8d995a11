#!/usr/bin/env bash
# `make mutation`: mutation testing of the core with cosmic-ray (docs/testing.md).
#
# One module at a time (tests/mutation/<name>.toml names the module and the focused tests that must kill its
# mutants), one worker, in a scratch copy of the tree under .mutation/ (cosmic-ray edits the file it mutates in
# place, so the working tree stays untouched and usable meanwhile). Incremental: a module's session is kept in
# .mutation/sessions/ and resumed where it stopped; it is started over only when the module, its tests or its
# config changed. A config may say `# sample: N` (or MUTATION_SAMPLE=N): then a seeded sample of N mutants is
# run, the others are skipped (tests/mutation/sample.py).
# Usage: tests/mutation/run.sh [name ...] (default: every config), then a report per module.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${LEC_MUTATION_DIR:-$root/.mutation}
venv=$work/venv
python=$root/.venv/bin/python
mkdir -p "$work/sessions"
if [ ! -x "$venv/bin/cosmic-ray" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$root/tests/mutation/requirements.lock"
fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in "$root"/tests/mutation/*.toml; do names+=("$(basename "$f" .toml)"); done
fi
# The scratch tree: the tracked and new files of the working tree (not .venv, node_modules, data).
tree=$work/tree
rm -rf "$tree" && mkdir -p "$tree"
(cd "$root" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$tree"
# What the services' tests need and git ignores, shared read-only: compiled contracts, the verifier's node
# modules, the Keycloak distribution (each test session still starts its own Keycloak in a temporary folder).
for kept in .build tools/node_modules .keycloak .solcx; do
    if [ -e "$root/$kept" ]; then ln -s "$root/$kept" "$tree/$kept"; fi
done
cd "$tree"
export PATH="$root/.venv/bin:$PATH" PYTHONDONTWRITEBYTECODE=1 LEC_MUTATION_PYTHON=$python
# The API's modules (a config saying `# keycloak: shared`): one Keycloak for the whole run, which every mutant's
# tests attach to through LEC_TEST_KEYCLOAK (tests/mutation/shared_keycloak.py), instead of one start per mutant.
configs=$(printf 'tests/mutation/%s.toml ' "${names[@]}")
# shellcheck disable=SC2086
if [ -z "${LEC_TEST_KEYCLOAK:-}" ] && grep -qs '^# keycloak: shared' $configs; then
    spec=$work/keycloak.spec
    rm -f "$spec"
    PYTHONPATH=$root "$python" "$root/tests/mutation/shared_keycloak.py" "$spec" >"$work/keycloak.log" 2>&1 &
    keycloak_pid=$!
    trap 'kill "$keycloak_pid" 2>/dev/null || true; wait "$keycloak_pid" 2>/dev/null || true' EXIT
    until [ -f "$spec" ]; do
        if ! kill -0 "$keycloak_pid" 2>/dev/null; then
            cat "$work/keycloak.log" >&2
            exit 1
        fi
        sleep 2
    done
    LEC_TEST_KEYCLOAK=$(cat "$spec")
    export LEC_TEST_KEYCLOAK
fi
for name in "${names[@]}"; do
    config=tests/mutation/$name.toml
    session=$work/sessions/$name.sqlite
    module=$(sed -n 's/^module-path *= *"\(.*\)"/\1/p' "$config")
    tests=$(sed -n 's/^# tests: *//p' "$config")
    sample=${MUTATION_SAMPLE:-$(sed -n 's/^# sample: *//p' "$config")}
    stamp=$( (cat "$config" "$module" $(find $tests -type f -name "*.py" | sort); if [ -n "$sample" ]; then echo "sample=$sample seed=${MUTATION_SEED:-18}"; fi) | sha256sum | cut -c1-16)
    if [ ! -f "$session" ] || [ "$(cat "$session.stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -f "$session"
        "$venv/bin/cosmic-ray" init "$config" "$session"
        "$venv/bin/cr-filter-operators" "$session" "$config"
        if [ -n "$sample" ]; then "$venv/bin/python" "$root/tests/mutation/sample.py" "$session" "$sample"; fi
        echo "$stamp" > "$session.stamp"
    fi
    echo "== $name: $module ($("$venv/bin/cr-report" "$session" | tail -3 | head -1))"
    "$venv/bin/cosmic-ray" exec "$config" "$session"
    "$venv/bin/cr-report" --show-pending "$session" > "$work/$name.report.txt"
    tail -3 "$work/$name.report.txt"
done
