"""A flexibility period over its model's budget, published on a chain and checked by both verifiers.

test_flex_settlement.py publishes a period whose budget (10²¹ units) is never reached, so `lec verify`'s
capped branch of `flex-reward` (docs/proofs.md §8: over budget, each member gets ⌊budget·u/U⌋ or one unit more)
was only ever worked by hand on `settle`, never on a published bundle. Here the same community and event are
published with a flexibility model whose budget is one token: every honest bundle must verify with both verifiers,
and a capped amount moved by two units must be refused by both at `flex-reward`. This kills verify.py's mutants
`uncapped_total > budget` → `==` and `budget * uncapped` → `budget - uncapped` (docs/testing.md, "Scores").
A third chain is published by an oracle that understates every delivery by one Wh: both verifiers must refuse it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from oracle.audit.verify import verify_bundle
from oracle.commands import register_model_command, run_command
from tests.flex.test_flex_settlement import (
    DAY,
    ENERGY,
    FLEX,
    _bundle,
    _invoke,
    flex_community,
)
from tests.support.verifier import js_verdicts

BUDGET = 10**18  # one token for the whole period: the event's deliveries are worth more


@contextmanager
def _published(
    tmp_path_factory,
    flex: dict[str, int],
    forge: Callable[[list[int]], list[int]] | None = None,
    energy: dict[str, int] = ENERGY,
) -> Iterator[dict]:
    """The community of test_flex_settlement.py and its event, published with the flexibility model `flex`; with
    `forge`, by an oracle that commits `forge(delivery)` instead of each member's delivery (a faulty or dishonest
    oracle, with leaves, trees and rewards all consistent with what it committed)."""
    with flex_community(tmp_path_factory, "Capped LEC", "CAPF") as world:
        mp = world["mp"]
        for name, kind, params in (
            ("lec-default", "self-consumption", energy),
            ("lec-flexibility", "flexibility", flex),
        ):
            result = _invoke(register_model_command, "--name", name, "--kind", kind, "--params", json.dumps(params))
            assert result.exit_code == 0, result.output
        if forge is not None:
            import oracle.flex.rewards

            rule = oracle.flex.rewards.delivered
            mp.setattr(oracle.flex.rewards, "delivered", lambda *a: forge(rule(*a)))
        result = _invoke(run_command, "--community", "1", "--period", DAY.isoformat(), "--publish")
        assert result.exit_code == 0, result.output
        yield {**world, "bundles": [_bundle(world, m.address) for m in world["members"]]}


@pytest.fixture(scope="module")
def capped(tmp_path_factory) -> Iterator[dict]:
    with _published(tmp_path_factory, {**FLEX, "max_per_period": BUDGET}) as published:
        yield published


def _both(capped: dict, folder, named: dict[str, dict]) -> dict[str, tuple[str | None, str | None]]:
    """name → (the check `lec verify` failed at, the one the JavaScript verifier failed at); None when it passed."""
    paths = {name: folder / f"{name}.json" for name in named}
    for name, path in paths.items():
        path.write_text(json.dumps(named[name]))
    lines = js_verdicts(list(paths.values()), capped["url"])
    out = {}
    for (name, bundle), line in zip(named.items(), lines, strict=True):
        python = verify_bundle(bundle, capped["w3"])
        out[name] = (None if all(c.ok for c in python) else python[-1].name, line["failed"])
    return out


def test_the_period_is_over_its_flexibility_budget_and_paid_within_it(capped):
    flex = [b["flexibility"] for b in capped["bundles"]]
    uncapped_total, total = int(flex[0]["uncappedTotal"]), int(flex[0]["total"])
    assert uncapped_total > BUDGET >= total > 0  # capped: the case this file is for
    paid = [int(f["reward"]) for f in flex]
    assert sum(paid) == total and sum(1 for p in paid if p > 0) >= 2


def test_both_verifiers_accept_every_honest_capped_bundle_and_refuse_an_amount_off_by_two(capped, tmp_path):
    """Each member's flexibility reward is the budget-capped share of its uncapped reward, as both verifiers
    recompute it; two units more (or less) on the flexibility reward and on the leaf is outside "the floor or
    one unit more", and both name `flex-reward`."""
    bundles = capped["bundles"]
    named = {f"honest-{i}": b for i, b in enumerate(bundles)}
    rewarded = next(i for i, b in enumerate(bundles) if int(b["flexibility"]["reward"]) > 2)
    for name, delta in (("plus-two", 2), ("minus-two", -2)):
        bundle = json.loads(json.dumps(bundles[rewarded]))
        bundle["flexibility"]["reward"] = str(int(bundle["flexibility"]["reward"]) + delta)
        bundle["reward"]["amount"] = bundle["reward"]["leaf"][1] = str(int(bundle["reward"]["amount"]) + delta)
        named[name] = bundle
    verdicts = _both(capped, tmp_path, named)
    honest = {n: v for n, v in verdicts.items() if n.startswith("honest")}
    assert honest == dict.fromkeys(honest, (None, None)) and len(honest) == len(bundles)
    assert verdicts["plus-two"] == ("flex-reward", "flex-reward")
    assert verdicts["minus-two"] == ("flex-reward", "flex-reward")


def test_both_verifiers_refuse_the_deliveries_of_an_oracle_that_understates_them(tmp_path_factory, tmp_path):
    """An oracle that commits every delivery one Wh short underpays each member with a bundle whose leaves are in
    the notarised tree and whose rewards follow from the committed deliveries: only recomputing the delivery from
    the committed baseline, metered load and dispatch shows it, and both verifiers name `flex-reward`. This kills
    verify.py's mutant `series[3] == delivered(…)` → `<=` (a delivery below the rule's was accepted)."""
    with _published(tmp_path_factory, FLEX, lambda d: [max(x - 1, 0) for x in d]) as short:
        rewarded = {f"member-{i}": b for i, b in enumerate(short["bundles"]) if b["flexibility"]["events"]}
        assert len(rewarded) >= 4
        verdicts = _both(short, tmp_path, rewarded)
    assert verdicts == dict.fromkeys(rewarded, ("flex-reward", "flex-reward"))


def test_both_verifiers_refuse_deliveries_committed_longer_than_the_event(tmp_path_factory, tmp_path):
    """An oracle that commits one more delivered quarter hour than the event has (baseline, metered and dispatched
    cover the event): both verifiers name `flex-leaf` for the lengths, before any delivery is recomputed. This
    kills verify.py's mutant `len({len(x) for x in series}) == 1` → `>= 1` (then `flex-reward` was named)."""
    with _published(tmp_path_factory, FLEX, lambda d: [*d, 0]) as longer:
        rewarded = {f"member-{i}": b for i, b in enumerate(longer["bundles"]) if b["flexibility"]["events"]}
        assert len(rewarded) >= 4
        verdicts = _both(longer, tmp_path, rewarded)
    assert verdicts == dict.fromkeys(rewarded, ("flex-leaf", "flex-leaf"))


def test_a_period_exactly_at_its_budget_is_paid_exactly_not_one_unit_more(capped, tmp_path_factory, tmp_path):
    """docs/proofs.md §8: the cap applies only *over* the budget. With the budget equal to the uncapped total (the
    capped chain's, the same event), each member gets exactly its uncapped reward: one unit more, which the
    capped rule's "floor or one unit more" would allow, is refused by both at `flex-reward`. This kills
    verify.py's mutant `uncapped_total > budget` → `>=`. The energy model pays nothing here, so each rewarded
    member's reward leaf is its flexibility reward alone, which both must accept (the mutant `amount <=
    leaf_amount` → `<` refused it)."""
    exact = int(capped["bundles"][0]["flexibility"]["uncappedTotal"])
    nothing = {"a": 0, "b": 0, "c": 0, "max_per_period": ENERGY["max_per_period"]}
    with _published(tmp_path_factory, {**FLEX, "max_per_period": exact}, energy=nothing) as at_budget:
        bundles = at_budget["bundles"]
        flex_only = [b for b in bundles if b["reward"] and int(b["flexibility"]["reward"]) > 0]
        assert flex_only and all(b["reward"]["amount"] == b["flexibility"]["reward"] for b in flex_only)
        assert int(bundles[0]["flexibility"]["uncappedTotal"]) == int(bundles[0]["flexibility"]["total"]) == exact
        named = {f"honest-{i}": b for i, b in enumerate(bundles)}
        rewarded = next(i for i, b in enumerate(bundles) if int(b["flexibility"]["reward"]) > 0)
        bundle = json.loads(json.dumps(bundles[rewarded]))
        bundle["flexibility"]["reward"] = str(int(bundle["flexibility"]["reward"]) + 1)
        bundle["reward"]["amount"] = bundle["reward"]["leaf"][1] = str(int(bundle["reward"]["amount"]) + 1)
        named["plus-one"] = bundle
        verdicts = _both(at_budget, tmp_path, named)
    assert verdicts.pop("plus-one") == ("flex-reward", "flex-reward")
    assert verdicts == dict.fromkeys(verdicts, (None, None)) and len(verdicts) == len(bundles)
