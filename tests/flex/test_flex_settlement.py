"""Flexibility rewards in the auditable path (docs/proofs.md §8): a DR event's deliveries committed in the period's
data tree, its rewards added to the members' reward leaves, claimed once, corrected after claims, out of reach of
a third party, and reproduced by `lec verify` from a bundle — which fails when a flexibility leaf is tampered."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session
from web3 import Web3
from web3.exceptions import ContractCustomError

from lec.calendar import ROME, period_id
from lec.chain.contracts import abi
from lec.chain.reverts import error_name
from lec.db.models import CounterReading, Device
from lec.db.models.flex import FlexDispatch
from oracle.audit.verify import verify_bundle
from oracle.commands import bundle_command, register_model_command, run_command
from oracle.flex.rewards import FlexibilityModel, MemberDelivery
from oracle.flex.settlement import EventDeliveries, FlexModelRef, event_reward, settle
from tests.support.anvil import FREE_GAS, KEYS, anvil
from tests.support.flex import dr_event, load_device, readings_between
from tests.support.platform import deploy_platform, send

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "oracle" / "period"))
from period_helpers import populate_community  # noqa: E402

DAY = date(2026, 7, 15)  # a Wednesday
EVENT = datetime.combine(DAY, time(18), tzinfo=ROME).astimezone(UTC)
ENERGY = {"a": 10**17, "b": 5 * 10**16, "c": 5 * 10**16, "max_per_period": 10**21}
FLEX = {"rate": 10**18, "min_performance_bps": 2_000, "max_per_period": 10**21}
PARAMS_JSON = json.dumps(FLEX, sort_keys=True, separators=(",", ":"))
VERIFY_JS = Path(__file__).resolve().parents[2] / "tools" / "verifier" / "verify.mjs"


# ------------------------------------------------------------------------------------------------ pure rules


def _delivery(account: str, dispatched: int, delivered: list[int]) -> MemberDelivery:
    n = len(delivered)
    return MemberDelivery(account, [500] * n, [500 - d for d in delivered], [dispatched] * n, delivered)


def _ref(params: dict[str, int]) -> FlexModelRef:
    return FlexModelRef(7, FlexibilityModel("f", params), json.dumps(params, sort_keys=True, separators=(",", ":")))


def test_rewards_follow_rate_floor_and_budget_by_hand():
    a, b, c = "0x" + "0a" * 20, "0x" + "0b" * 20, "0x" + "0c" * 20
    events = [
        EventDeliveries(
            "rest:e1",
            1_800_000_000,
            [
                _delivery(a, 250, [250, 250, 250, 250]),  # 1 kWh delivered
                _delivery(b, 250, [100, 100, 100, 100]),  # 0.4 kWh, 40 % ≥ the 20 % floor
                _delivery(c, 250, [40, 40, 40, 40]),  # 16 % < 20 %: the penalty, nothing
            ],
        )
    ]
    salts = {f"flex:rest:e1:{x}": bytes([i]) * 32 for i, x in enumerate((a, b, c))}
    free = settle(20260715, _ref(FLEX), events, salts)
    assert free.amounts == {a: 10**18, b: 4 * 10**17}
    assert free.uncapped_total == free.total == 14 * 10**17
    # A budget of 0.7 tokens: 0.5 and 0.2, pro rata.
    capped = settle(20260715, _ref({**FLEX, "max_per_period": 7 * 10**17}), events, salts)
    assert capped.amounts == {a: 5 * 10**17, b: 2 * 10**17} and capped.uncapped_total == 14 * 10**17
    # Every delivery leaf and the period leaf; different salts give different leaves.
    assert len(free.leaves) == 4 and len(set(free.leaves.values())) == 4


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2_000), st.lists(st.integers(0, 2_000), min_size=1, max_size=4)),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 5 * 10**18),
    st.integers(0, 10_000),
)
def test_capped_rewards_stay_in_budget_and_within_the_verifiers_bounds(members, budget, floor):
    """Model: each member's reward is its uncapped reward, or — over budget — ⌊budget·u/U⌋ or one unit more; the
    total never exceeds the budget, and a member under the floor earns nothing."""
    params = {"rate": 10**18, "min_performance_bps": floor, "max_per_period": budget}
    deliveries = [
        _delivery("0x" + f"{i + 1:040x}", share, [min(x, share) for x in delivered])
        for i, (share, delivered) in enumerate(members)
    ]
    result = settle(
        20260715,
        _ref(params),
        [EventDeliveries("rest:p", 0, deliveries)],
        {f"flex:rest:p:{d.account}": b"\x01" * 32 for d in deliveries},
    )
    uncapped = {d.account: event_reward(params, d.dispatched_wh, d.delivered_wh) for d in deliveries}
    total = sum(uncapped.values())
    assert result.total <= max(budget, 0) or result.total == total <= budget
    for d in deliveries:
        got, u = result.amounts.get(d.account, 0), uncapped[d.account]
        if sum(d.delivered_wh) * 10_000 < floor * sum(d.dispatched_wh):
            assert got == 0
        if total > budget:
            assert budget * u // total <= got <= budget * u // total + 1
        else:
            assert got == u


# ------------------------------------------------------------------------------------------ on a real chain


@contextmanager
def flex_community(tmp_path_factory, name: str = "Flex LEC", symbol: str = "FLEX") -> Iterator[dict]:
    """The platform on anvil with six members, the oracle's environment pointed at it (undone on exit, "mp"), and
    the database side of the community with the flexibility event of this module."""
    with anvil(fees=FREE_GAS) as url:
        w3 = Web3(Web3.HTTPProvider(url))
        admin = Account.from_key(KEYS[0])
        deployments = deploy_platform(w3, admin, name, symbol)
        token = w3.eth.contract(address=deployments["communities"][0]["token"], abi=abi("CommunityToken"))
        members = [Account.from_key(k) for k in KEYS[1:7]]
        for member in members:
            send(w3, token.functions.addMember(member.address, 1, 0), admin)
        folder = tmp_path_factory.mktemp("deployments")
        (folder / "1981.json").write_text(json.dumps(deployments))
        data = tmp_path_factory.mktemp("data")
        mp = pytest.MonkeyPatch()
        mp.setenv("LEC_DATA_DIR", str(data))
        mp.setenv("LEC_RPC_URL", url)
        mp.setenv("LEC_DEPLOYMENTS_DIR", str(folder))
        mp.setenv("LEC_ORACLE_PRIVATE_KEY", KEYS[0])
        mp.delenv("DATABASE_URL", raising=False)
        from lec.db.session import init_db

        engine = init_db()
        with Session(engine) as session:
            populate_community(session, [m.address for m in members], DAY)
            _flex_setup(session, [m.address for m in members])
        try:
            yield {"w3": w3, "token": token, "members": members, "data": data, "engine": engine, "url": url, "mp": mp}
        finally:
            mp.undo()


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Iterator[dict]:
    with flex_community(tmp_path_factory) as world:
        yield world


def _load_device(session: Session, wallet: str) -> Device:
    return load_device(session, wallet)


def _event_readings(session: Session, device: Device) -> list[CounterReading]:
    return readings_between(session, device, EVENT, EVENT + timedelta(hours=1))


def _flex_setup(session: Session, wallets: list[str]) -> None:
    """Two weeks of history equal to the event day's afternoon (so the baseline is the day's own load), a 2 kW
    declaration each, a 6 kW event 18–19 received the day before (1 kW each), member 5 opting out; during the
    event members 0–3 draw a quarter of their load, member 4 does not reduce."""
    event = dr_event(session, wallets, EVENT, 6_000, reduced=wallets[:4], opted_out=wallets[5])
    dispatch = session.get(FlexDispatch, (event.id, _load_device(session, wallets[5]).user_id))
    assert dispatch is not None and dispatch.share_w == 1_000


def _invoke(command, *args: str):
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def _bundle(chain, wallet: str) -> dict:
    out = chain["data"] / f"bundle-{wallet}.json"
    result = _invoke(
        bundle_command, "--community", "1", "--period", DAY.isoformat(), "--member", wallet, "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def _revert(fn, sender: str) -> str | None:
    with pytest.raises(ContractCustomError) as info:
        fn.call({"from": sender})
    return error_name(info.value.data)


@pytest.fixture(scope="module")
def published(chain) -> dict:
    for name, kind, params in (
        ("lec-default", "self-consumption", json.dumps(ENERGY)),
        ("lec-flexibility", "flexibility", json.dumps(FLEX)),
    ):
        result = _invoke(register_model_command, "--name", name, "--kind", kind, "--params", params)
        assert result.exit_code == 0, result.output
    result = _invoke(run_command, "--community", "1", "--period", DAY.isoformat(), "--publish")
    assert result.exit_code == 0, result.output
    assert "Flexibility: 1 event(s), 5 measured delivery(ies)" in result.output
    return json.loads((chain["data"] / "periods" / "1" / DAY.isoformat() / "period.json").read_text())


def test_the_period_commits_the_event_and_adds_flex_rewards_to_the_leaves(chain, published):
    flex = published["flexibility"]
    assert flex["model"]["kind"] == "flexibility" and flex["eventLeaves"] == 5
    assert flex["total"] == flex["uncappedTotal"] > 0
    assert published["leafCount"] == 9 + 5 + 1  # device leaves, delivery leaves, the flexibility period leaf
    details = json.loads((chain["data"] / "periods" / "1" / DAY.isoformat() / "flex.json").read_text())
    members = [m.address.lower() for m in chain["members"]]
    rewarded = {a.lower() for a in details["rewards"]}
    assert rewarded == set(members[:4])  # member 4 delivered too little, member 5 opted out
    rows = {r["account"].lower(): r for r in details["events"][0]["members"]}
    # Member 4's noise delivers a little, under the 20 % floor: the penalty leaves it nothing.
    assert members[5] not in rows and sum(rows[members[4]]["delivered"]) * 5 < sum(rows[members[4]]["dispatched"])
    for account in members[:4]:
        assert all(0 < d <= 250 for d in rows[account]["delivered"])  # capped at the 1 kW (250 Wh) dispatched
    rewards = json.loads((chain["data"] / "periods" / "1" / DAY.isoformat() / "rewards.json").read_text())
    leaves = {str(v["value"][0]).lower(): int(v["value"][1]) for v in rewards["values"]}
    assert sum(leaves.values()) == published["totalRewards"]
    bundle = _bundle(chain, chain["members"][0].address)
    flex_part = int(bundle["flexibility"]["reward"])
    assert flex_part == int(details["rewards"][next(a for a in details["rewards"] if a.lower() == members[0])])
    assert leaves[members[0]] == int(bundle["reward"]["amount"]) > flex_part  # energy + flexibility in one leaf


def test_an_honest_bundle_verifies_with_the_flexibility_checks(chain, published):
    for member in (chain["members"][0], chain["members"][4], chain["members"][5]):
        checks = verify_bundle(_bundle(chain, member.address), chain["w3"])
        assert all(c.ok for c in checks), checks
        names = [c.name for c in checks]
        assert {"flex-model", "flex-leaf", "flex-reward", "reward", "reward-leaf"} <= set(names)


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        (lambda f: f["events"][0]["delivered"].__setitem__(0, f["events"][0]["delivered"][0] + 1), "flex-leaf"),
        (lambda f: f["events"][0]["metered"].__setitem__(1, 0), "flex-leaf"),
        (lambda f: f["events"][0].__setitem__("salt", "0x" + "22" * 32), "flex-leaf"),
        (lambda f: f.__setitem__("uncappedTotal", f["uncappedTotal"] + 1), "flex-leaf"),
        (lambda f: f.__setitem__("events", []), "flex-reward"),  # the member's deliveries withheld
        (lambda f: f.__setitem__("reward", str(int(f["reward"]) + 10**18)), "flex-reward"),
        (lambda f: f["model"].__setitem__("params", f["model"]["params"].replace("2000", "0")), "flex-model"),
    ],
)
def test_verify_fails_when_a_flexibility_leaf_is_tampered(chain, published, change, failing):
    bundle = _bundle(chain, chain["members"][1].address)
    change(bundle["flexibility"])
    checks = verify_bundle(bundle, chain["w3"])
    assert not checks[-1].ok and checks[-1].name == failing, checks[-1]
    assert all(c.ok for c in checks[:-1])


# ---------------------------------------------------------- the JavaScript verifier agrees (tools/verifier)


def _flex_field(path: str, value) -> Callable[[dict], None]:
    """Sets `bundle["flexibility"][...path]` to `value(old)`."""

    def change(bundle: dict) -> None:
        *parents, last = path.split(".")
        node = bundle["flexibility"]
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        index: int | str = int(last) if last.isdigit() else last
        node[index] = value(node[index])

    return change


def _bump(x):
    return "0x" + ("0" if x[2] != "0" else "1") + x[3:]


def _both_amounts(delta: int) -> Callable[[dict], None]:
    """The flexibility reward and the leaf raised together: the energy part stays as recomputed."""

    def change(bundle: dict) -> None:
        bundle["flexibility"]["reward"] = str(int(bundle["flexibility"]["reward"]) + delta)
        bundle["reward"]["amount"] = bundle["reward"]["leaf"][1] = str(int(bundle["reward"]["amount"]) + delta)

    return change


def _set_top(key: str, value) -> Callable[[dict], None]:
    def change(bundle: dict) -> None:
        bundle[key] = value

    return change


# (case, member, change, the check both verifiers must name)
JS_CASES = [
    ("delivered", 1, _flex_field("events.0.delivered.0", lambda v: v + 1), "flex-leaf"),
    ("metered", 1, _flex_field("events.0.metered.1", lambda _: 0), "flex-leaf"),
    ("baseline", 1, _flex_field("events.0.baseline.2", lambda v: v + 100), "flex-leaf"),
    ("dispatched", 1, _flex_field("events.0.dispatched.3", lambda v: v - 1), "flex-leaf"),
    ("series-length", 1, _flex_field("events.0.baseline", lambda v: v[:-1]), "flex-leaf"),
    ("event-salt", 1, _flex_field("events.0.salt", lambda _: "0x" + "22" * 32), "flex-leaf"),
    ("event-key", 1, _flex_field("events.0.event", lambda v: v + "x"), "flex-leaf"),
    ("event-start", 1, _flex_field("events.0.start", lambda v: v + 900), "flex-leaf"),
    ("event-leaf", 1, _flex_field("events.0.leaf.1", _bump), "flex-leaf"),
    ("event-proof", 1, _flex_field("events.0.proof.0", _bump), "flex-leaf"),
    ("uncapped-total", 1, _flex_field("uncappedTotal", lambda v: v + 1), "flex-leaf"),
    ("total", 1, _flex_field("total", lambda v: v - 1), "flex-leaf"),
    ("event-leaves", 1, _flex_field("eventLeaves", lambda v: v + 1), "flex-leaf"),
    ("period-leaf", 1, _flex_field("periodLeaf.0", _bump), "flex-leaf"),
    ("period-proof", 1, _flex_field("periodProof.0", _bump), "flex-leaf"),
    ("events-withheld", 1, _flex_field("events", lambda _: []), "flex-reward"),
    ("flex-reward-plus", 1, _flex_field("reward", lambda v: str(int(v) + 10**18)), "flex-reward"),
    ("flex-reward-minus-one", 1, _flex_field("reward", lambda v: str(int(v) - 1)), "flex-reward"),
    ("flex-reward-zero", 1, _flex_field("reward", lambda _: "0"), "flex-reward"),
    ("leaf-and-flex-raised", 1, _both_amounts(1), "flex-reward"),
    ("reward-leaf-removed", 1, _set_top("reward", None), "flex-reward"),
    ("flexibility-removed", 1, _set_top("flexibility", None), "reward"),
    ("under-the-floor-paid", 4, _flex_field("reward", lambda _: "1"), "flex-reward"),
    ("model-params", 1, _flex_field("model.params", lambda v: v.replace("2000", "0")), "flex-model"),
    ("model-hash", 1, _flex_field("model.paramsHash", lambda _: "0x" + "44" * 32), "flex-model"),
    ("model-id-energy", 1, _flex_field("model.id", lambda v: v - 1), "flex-model"),
    ("model-id-none", 1, _flex_field("model.id", lambda v: v + 5), "flex-model"),
]


def test_the_javascript_verifier_agrees_on_flexibility_bundles(chain, published, tmp_path):
    """tools/verifier runs the same flexibility checks as `lec verify`: the same verdict and the same failing
    check on honest bundles (a rewarded member, one under the performance floor, one opted out) and on each
    tampered flexibility field."""
    node = shutil.which("node")
    assert node, "node is missing: Node 20 is needed for tools/verifier"
    honest = {i: _bundle(chain, chain["members"][i].address) for i in (0, 1, 4, 5)}
    named: dict[str, tuple[dict, str | None]] = {f"honest-{i}": (b, None) for i, b in honest.items()}
    for case, member, change, failing in JS_CASES:
        bundle = json.loads(json.dumps(honest[member]))
        change(bundle)
        named[case] = (bundle, failing)
    paths = []
    for name, (bundle, _) in named.items():
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(bundle))
    js = subprocess.run(
        [node, str(VERIFY_JS), *map(str, paths), "--rpc", chain["url"], "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [json.loads(line) for line in js.stdout.splitlines()]
    assert [line["bundle"] for line in lines] == list(map(str, paths)), js.stderr
    for (name, (bundle, failing)), line in zip(named.items(), lines, strict=True):
        python = verify_bundle(bundle, chain["w3"])
        py_failed = None if all(c.ok for c in python) else python[-1].name
        assert (py_failed, line["failed"]) == (failing, failing), (name, python[-1], line["checks"][-1])
        assert [c.name for c in python] == [c["name"] for c in line["checks"]], name
    flex_checks = ["flex-model", "flex-leaf", "flex-reward"]
    names = [c["name"] for c in lines[0]["checks"]]
    assert names[names.index("data-leaf") + 1 :] == [*flex_checks, "reward", "reward-leaf"]
    energy, flex = re.search(r"\((\d+) energy \+ (\d+) flexibility\)", lines[0]["checks"][-2]["detail"]).groups()
    assert int(energy) + int(flex) == int(honest[0]["reward"]["amount"]) and int(energy) > 0  # member 0 earns both
    assert int(honest[0]["flexibility"]["reward"]) > 0 and honest[4]["flexibility"]["reward"] == "0"
    assert honest[5]["flexibility"]["events"] == []  # opted out: no event leaf


def _js_period(chain, folder: Path, bundles: list[dict]) -> dict:
    paths = []
    for i, bundle in enumerate(bundles):
        paths.append(folder / f"member-{i}.json")
        paths[-1].write_text(json.dumps(bundle))
    result = subprocess.run(
        [shutil.which("node") or "node", str(VERIFY_JS), *map(str, paths), "--period", "--rpc", chain["url"], "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    period = json.loads(result.stdout.splitlines()[-1])
    assert period["bundle"] == "period" and result.returncode == (0 if period["ok"] else 1), result.stdout
    return period


def test_the_javascript_verifier_rebuilds_a_flexibility_period_from_every_bundle(chain, published, tmp_path):
    """With every member's bundle (`--period`) the data tree is rebuilt with the event and period leaves, and the
    flexibility rewards are exactly their split; a member left out or counted twice is caught."""
    bundles = [_bundle(chain, m.address) for m in chain["members"]]
    whole = _js_period(chain, tmp_path, bundles)
    assert whole["ok"], whole
    assert "9 device, 6 flexibility" in whole["checks"][1]["detail"]  # 5 event leaves and the period leaf
    assert _js_period(chain, tmp_path, bundles[1:])["failed"] == "period-roots"  # a rewarded member left out
    assert _js_period(chain, tmp_path, [*bundles, bundles[0]])["failed"] == "period-bundles"  # a member twice
    # A tampered flexibility total fails its own bundle's checks: then the period is not checked at all.
    other = json.loads(json.dumps(bundles))
    other[2]["flexibility"]["total"] += 1
    refused = _js_period(chain, tmp_path, other)
    assert refused["failed"] is None and refused["error"].startswith("a bundle failed its own checks")


def test_a_member_claims_its_flex_reward_once_and_a_third_party_cannot(chain, published):
    w3, token = chain["w3"], chain["token"]
    member, outsider, relayer_less = chain["members"][2], Account.from_key(KEYS[8]), chain["members"][3]
    bundle = _bundle(chain, member.address)
    amount, proof = int(bundle["reward"]["amount"]), bundle["reward"]["proof"]
    period = period_id(DAY)
    # A third party (not a member) cannot claim the member's leaf for itself nor on its behalf, nor can another
    # member (a colluding one) relay it.
    assert _revert(token.functions.claim(period, amount, proof), outsider.address) == "CommunityTokenNotMember"
    assert (
        _revert(token.functions.claimFor(member.address, period, amount, proof), outsider.address)
        == "CommunityTokenUnauthorizedRelayer"
    )
    assert (
        _revert(token.functions.claimFor(member.address, period, amount, proof), relayer_less.address)
        == "CommunityTokenUnauthorizedRelayer"
    )
    # Another member presenting this leaf as its own: the proof does not hold for its address.
    assert _revert(token.functions.claim(period, amount, proof), relayer_less.address) == "CommunityTokenInvalidProof"
    before = token.functions.balanceOf(member.address).call()
    send(w3, token.functions.claim(period, amount, proof), member)
    assert token.functions.balanceOf(member.address).call() - before == amount
    assert _revert(token.functions.claim(period, amount, proof), member.address) == "CommunityTokenNothingToClaim"


def test_a_correction_after_claims_tops_up_a_raised_flex_reward(chain, published):
    """After every member was paid, member 4's event readings are corrected (it did reduce): the new version
    raises its leaf by its flexibility reward, the oracle pays the difference, the old bundle is superseded."""
    claimed = _invoke(run_command, "--community", "1", "--period", DAY.isoformat(), "--claim")
    assert claimed.exit_code == 0, claimed.output
    late = chain["members"][4]
    token, period = chain["token"], period_id(DAY)
    paid = token.functions.claimed(period, late.address).call()
    old_bundle = _bundle(chain, late.address)
    assert old_bundle["flexibility"]["reward"] == "0"
    with Session(chain["engine"]) as session:
        for r in _event_readings(session, _load_device(session, late.address)):
            r.energy_wh = float((r.energy_wh or 0) // 2)
        session.commit()
    refused = _invoke(run_command, "--community", "1", "--period", DAY.isoformat(), "--publish")
    assert refused.exit_code != 0 and "--correct" in refused.output
    fixed = _invoke(
        run_command, "--community", "1", "--period", DAY.isoformat(), "--claim", "--correct", "event readings fixed"
    )
    assert fixed.exit_code == 0, fixed.output
    new_bundle = _bundle(chain, late.address)
    amount = int(new_bundle["reward"]["amount"])
    assert int(new_bundle["flexibility"]["reward"]) > 0 and amount > paid
    assert token.functions.claimed(period, late.address).call() == amount  # topped up to the corrected leaf
    assert all(c.ok for c in verify_bundle(new_bundle, chain["w3"]))
    stale = verify_bundle(old_bundle, chain["w3"])
    assert not stale[-1].ok and stale[-1].name == "latest-version"


def test_forgetting_a_member_erases_its_delivery_salts_only(chain, published):
    from oracle.flex.service import forget_flex_salts

    gone, kept = chain["members"][0], chain["members"][1]
    with Session(chain["engine"]) as session:
        assert forget_flex_salts(session, [gone.address]) == 1  # its one delivery leaf
    out = chain["data"] / "forgotten.json"
    result = _invoke(
        bundle_command, "--community", "1", "--period", DAY.isoformat(), "--member", gone.address, "--out", str(out)
    )
    assert result.exit_code != 0 and "erased" in result.output
    assert all(c.ok for c in verify_bundle(_bundle(chain, kept.address), chain["w3"]))
