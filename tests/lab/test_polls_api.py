"""Polls through the API on a real chain (anvil) and the real Keycloak: who may do what, the ballot rules as the
API answers them, the close that notarises the tally and the root of the salted leaves, a member's receipt checked
by the Notary, `lec verify` on the public bundle (and on one with a changed ballot), and the right to be forgotten."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select
from web3 import Web3
from web3.exceptions import ContractCustomError

from dapp.api.main import create_app
from dapp.api.services import lab as lab_service
from lec.chain.contracts import abi
from lec.chain.reverts import error_name
from lec.db.models import Community, LabBallot, LabPoll, Role, User, UserCommunity, UserRole
from lec.db.session import get_engine, init_db
from oracle.audit.cli import verify_command
from tests.api.api_helpers import ADMIN, bearer, make_settings, platform_on_anvil
from tests.support.keycloak import KeycloakServer
from tests.support.platform import send

ANNA, BRUNO, CARLA, DORA = (Account.create() for _ in range(4))
WALLETS = {"anna": ANNA, "bruno": BRUNO, "carla": CARLA, "dora": DORA, "admin": ADMIN}


@dataclass
class Lab:
    client: TestClient
    tokens: dict[str, str]
    community: int
    other: int
    w3: Web3
    engine: object
    rpc: str
    notary: object

    def call(self, method: str, who: str, path: str, community: int | None = None, **kwargs):  # noqa: ANN201
        cid = self.community if community is None else community
        return self.client.request(
            method, f"/api/v1/communities/{cid}{path}", headers=bearer(self.tokens[who]), **kwargs
        )


@pytest.fixture(scope="module")
def lab(keycloak: KeycloakServer, tmp_path_factory) -> Iterator[Lab]:
    folder = tmp_path_factory.mktemp("lab")
    with platform_on_anvil(folder, "Lab LEC") as (url, w3, deployments):
        contracts = json.loads((folder / "1981.json").read_text())["contracts"]
        registry = w3.eth.contract(address=contracts["Registry"], abi=abi("Registry"))
        token = w3.eth.contract(address=registry.functions.tokenOf(1).call(), abi=abi("CommunityToken"))
        for member in (ANNA, BRUNO, CARLA):
            send(w3, token.functions.addMember(member.address, 1, 0), ADMIN)
        db_url = f"sqlite:///{folder / 'api.db'}"
        engine = init_db(get_engine(db_url))
        people = {  # name: (realm roles, communities with a wallet there, admin of)
            "anna": (["token-holder"], ["lab"], []),
            "bruno": (["token-holder"], ["lab"], []),
            "carla": (["token-holder"], [], []),  # joins after the poll opens
            "dora": (["token-holder"], ["other"], []),  # a member of another community
            "admin": (["community-admin", "token-holder"], ["lab"], ["lab"]),
            "other-admin": (["community-admin"], [], ["other"]),
            "auditor": (["auditor"], [], []),
        }
        with Session(engine) as s:
            communities = {"lab": Community(name="Lab LEC", chain_community_id=1), "other": Community(name="Other LEC")}
            s.add_all(communities.values())
            s.flush()
            role_id = s.exec(select(Role.id).where(Role.name == "community-admin")).one()
            for name, (roles, member_of, admin_of) in people.items():
                subject = keycloak.add_user(f"lab-{name}", roles=roles)
                user = User(external_id=subject, name=name, surname="Test", email=f"lab-{name}@example.org")
                s.add(user)
                s.flush()
                for c in member_of:
                    wallet = WALLETS[name].address
                    s.add(UserCommunity(community_id=communities[c].id, user_id=user.id, wallet=wallet, active=True))
                for c in admin_of:
                    s.add(UserRole(user_id=user.id, community_id=communities[c].id, role_id=role_id))
            s.commit()
            ids = communities["lab"].id, communities["other"].id
        tokens = {name: keycloak.access_token(f"lab-{name}") for name in people}
        settings = make_settings(
            keycloak,
            db_url,
            rpc_url=url,
            deployments_dir=deployments,
            community_admin_private_key=SecretStr("0x" + bytes(ADMIN.key).hex()),
        )
        mp = pytest.MonkeyPatch()
        mp.setenv("LEC_DEPLOYMENTS_DIR", deployments)
        notary = w3.eth.contract(address=contracts["Notary"], abi=abi("Notary"))
        try:
            with TestClient(create_app(settings, engine)) as client:
                yield Lab(client, tokens, ids[0], ids[1], w3, engine, url, notary)
        finally:
            mp.undo()


def _new_poll(lab: Lab, **body) -> dict:
    now = datetime.now(UTC)
    payload = {
        "question": "Where do the new bike racks go?",
        "options": ["Piazza", "School", "Library"],
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
        **body,
    }
    reply = lab.call("POST", "admin", "/polls", json=payload)
    assert reply.status_code == 201, reply.text
    return reply.json()


def _sign(lab: Lab, who: str, poll_id: int, choice: int) -> dict:
    reply = lab.call("GET", who, f"/polls/{poll_id}/ballot-request", params={"choice": choice})
    assert reply.status_code == 200, reply.text
    typed = reply.json()["typed_data"]
    signed = Account.sign_typed_data(WALLETS[who].key, full_message=typed)
    return {"choice": choice, "nonce": typed["message"]["nonce"], "signature": "0x" + bytes(signed.signature).hex()}


def _vote(lab: Lab, who: str, poll_id: int, ballot: dict):  # noqa: ANN202
    return lab.call("POST", who, f"/polls/{poll_id}/ballots", json=ballot)


def _end_now(lab: Lab, poll_id: int) -> None:
    """The voting window ends (the test does not wait a day)."""
    with Session(lab.engine) as s:  # type: ignore[arg-type]
        poll = s.get(LabPoll, poll_id)
        assert poll is not None
        poll.ends_at = datetime.now(UTC) - timedelta(seconds=1)
        s.add(poll)
        s.commit()


def _carla_member(lab: Lab, active: bool) -> None:
    """Carla's membership: off before a poll opens, on after (she joins after the snapshot)."""
    with Session(lab.engine) as s:  # type: ignore[arg-type]
        carla = s.exec(select(User).where(User.email == "lab-carla@example.org")).one()
        row = s.get(UserCommunity, (lab.community, carla.id))
        if row is None:
            row = UserCommunity(community_id=lab.community, user_id=carla.id, wallet=CARLA.address)
        row.active = active
        s.add(row)
        s.commit()


def _open(lab: Lab, poll_id: int) -> dict:
    _carla_member(lab, False)
    opened = lab.call("POST", "admin", f"/polls/{poll_id}/open")
    assert opened.status_code == 200, opened.text
    _carla_member(lab, True)
    return opened.json()


@pytest.fixture(scope="module")
def closed(lab: Lab, tmp_path_factory) -> dict:
    """One poll run to its end: Anna votes then changes her mind, Bruno votes, the admin votes, then it closes."""
    poll = _new_poll(lab)
    pid = poll["id"]
    assert _open(lab, pid)["eligible"] == 3  # Anna, Bruno and the admin; Carla joins later
    first = _sign(lab, "anna", pid, 0)
    assert _vote(lab, "anna", pid, first).json()["replaced"] is False
    second = _sign(lab, "anna", pid, 2)
    second["nonce"] = first["nonce"] + 1
    second["signature"] = (
        "0x"
        + bytes(Account.sign_typed_data(ANNA.key, full_message=_typed(lab, pid, 2, second["nonce"])).signature).hex()
    )
    replaced = _vote(lab, "anna", pid, second)
    assert replaced.status_code == 200 and replaced.json()["replaced"] is True
    assert _vote(lab, "bruno", pid, _sign(lab, "bruno", pid, 1)).status_code == 200
    assert _vote(lab, "admin", pid, _sign(lab, "admin", pid, 2)).status_code == 200
    return {"id": pid, "first": first, "second": second}


def _typed(lab: Lab, poll_id: int, choice: int, nonce: int) -> dict:
    reply = lab.call("GET", "anna", f"/polls/{poll_id}/ballot-request", params={"choice": choice}).json()
    reply["typed_data"]["message"]["nonce"] = nonce
    return reply["typed_data"]


# ---- who may do what ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anna", "auditor", "other-admin", "dora"])
def test_only_the_community_admin_writes_and_opens_polls(lab: Lab, who: str):
    assert (
        lab.call(
            "POST",
            who,
            "/polls",
            json={
                "question": "x?",
                "options": ["a", "b"],
                "starts_at": "2026-12-01T09:00:00Z",
                "ends_at": "2026-12-02T09:00:00Z",
            },
        ).status_code
        == 403
    )
    poll = _new_poll(lab)
    assert lab.call("POST", who, f"/polls/{poll['id']}/open").status_code == 403
    assert lab.call("POST", who, f"/polls/{poll['id']}/close").status_code == 403


def test_readers_see_polls_and_outsiders_do_not(lab: Lab, closed: dict):
    for who in ("anna", "auditor", "admin"):
        assert lab.call("GET", who, f"/polls/{closed['id']}").status_code == 200
    for who in ("dora", "other-admin"):
        assert lab.call("GET", who, f"/polls/{closed['id']}").status_code == 403


def test_a_poll_is_not_reachable_through_another_community(lab: Lab, closed: dict):
    reply = lab.call("GET", "other-admin", f"/polls/{closed['id']}", community=lab.other)
    assert reply.status_code == 404


def test_auditor_and_admins_without_a_wallet_cannot_vote(lab: Lab, closed: dict):
    for who in ("auditor", "other-admin"):
        assert lab.call("GET", who, f"/polls/{closed['id']}/ballot-request", params={"choice": 0}).status_code == 403


# ---- the ballot rules as the API answers them -----------------------------------------------------------


def test_ballot_rules_refused_with_a_reason(lab: Lab):
    poll = _new_poll(lab)
    pid = poll["id"]
    draft = _vote(lab, "anna", pid, {"choice": 0, "nonce": 1, "signature": "0x" + "11" * 65})
    assert draft.status_code == 409 and "not open" in draft.json()["detail"]
    _open(lab, pid)

    ballot = _sign(lab, "anna", pid, 0)
    assert _vote(lab, "anna", pid, ballot).status_code == 200
    replay = _vote(lab, "anna", pid, ballot)
    assert replay.status_code == 409 and "older than, or the same as" in replay.json()["detail"]

    stolen = _vote(lab, "bruno", pid, ballot)  # Bruno sends Anna's signature as his own
    assert stolen.status_code == 403 and "does not match" in stolen.json()["detail"]

    other_poll = _new_poll(lab)
    _open(lab, other_poll["id"])
    for_other = _sign(lab, "bruno", other_poll["id"], 1)
    misplaced = _vote(lab, "bruno", pid, for_other)
    assert misplaced.status_code == 403 and "another poll" in misplaced.json()["detail"]

    typed = _typed(lab, pid, 1, 10**12)
    typed["domain"]["chainId"] = 1
    other_chain = Account.sign_typed_data(BRUNO.key, full_message=typed)
    wrong_chain = _vote(
        lab, "bruno", pid, {"choice": 1, "nonce": 10**12, "signature": "0x" + bytes(other_chain.signature).hex()}
    )
    assert wrong_chain.status_code == 403 and "network" in wrong_chain.json()["detail"]

    late_member = _vote(lab, "carla", pid, _sign(lab, "carla", pid, 1))
    assert late_member.status_code == 403 and "active when the poll opened" in late_member.json()["detail"]

    assert lab.call("GET", "dora", f"/polls/{pid}/ballot-request", params={"choice": 0}).status_code == 403

    signed_early = _typed(lab, pid, 1, ballot["nonce"] + 5)  # signed while open, sent after the close
    after = {
        "choice": 1,
        "nonce": ballot["nonce"] + 5,
        "signature": "0x" + bytes(Account.sign_typed_data(ANNA.key, full_message=signed_early).signature).hex(),
    }
    _end_now(lab, pid)
    late = _vote(lab, "anna", pid, after)
    assert late.status_code == 409 and "Voting time is over" in late.json()["detail"]
    assert lab.call("POST", "admin", f"/polls/{pid}/close").status_code == 200
    after_close = _vote(lab, "anna", pid, after)
    assert after_close.status_code == 409 and "The poll is closed" in after_close.json()["detail"]


def test_close_is_refused_before_the_end_time(lab: Lab):
    poll = _new_poll(lab)
    _open(lab, poll["id"])
    early = lab.call("POST", "admin", f"/polls/{poll['id']}/close")
    assert early.status_code == 409 and "still open" in early.json()["detail"]


def test_a_poll_opens_once(lab: Lab, closed: dict):
    again = lab.call("POST", "admin", f"/polls/{closed['id']}/open")
    assert again.status_code == 409


# ---- close, notarise, verify --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tallied(lab: Lab, closed: dict) -> dict:
    _end_now(lab, closed["id"])
    reply = lab.call("POST", "admin", f"/polls/{closed['id']}/close")
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_close_tallies_the_latest_ballot_of_each_member_and_notarises_it(lab: Lab, closed: dict, tallied: dict):
    assert tallied["state"] == "closed" and tallied["counts"] == [0, 1, 2] and tallied["ballots"] == 3
    record = lab.notary.functions.pollRecord(1, closed["id"]).call()
    assert "0x" + bytes(record[0]).hex() == tallied["ballots_root"]
    assert "0x" + bytes(record[1]).hex() == tallied["tally_hash"]
    assert record[2] == 3 and record[4] == ADMIN.address
    again = lab.call("POST", "admin", f"/polls/{closed['id']}/close")
    assert again.status_code == 200 and again.json()["tx_hash"] == tallied["tx_hash"]  # not sent twice


def test_a_member_sees_their_ballot_counted_by_the_notary(lab: Lab, closed: dict, tallied: dict):
    receipt = lab.call("GET", "anna", f"/polls/{closed['id']}/receipt").json()
    assert receipt["choice"] == 2 and receipt["counted"] is True and receipt["voter"] == ANNA.address
    assert lab.call("GET", "anna", f"/polls/{closed['id']}").json()["my_choice"] == 2
    assert lab.call("GET", "carla", f"/polls/{closed['id']}/receipt").status_code == 404


def test_the_public_bundle_names_no_voter(lab: Lab, closed: dict, tallied: dict):
    bundle = lab.call("GET", "auditor", f"/polls/{closed['id']}/bundle").json()
    text = json.dumps(bundle).lower()
    for account in (ANNA, BRUNO, ADMIN):
        assert account.address.lower()[2:] not in text
    assert "signature" not in text and "salt" not in text


def _verify(lab: Lab, bundle: dict, tmp_path: Path):  # noqa: ANN202
    path = tmp_path / "poll.json"
    path.write_text(json.dumps(bundle))
    return CliRunner().invoke(verify_command, [str(path), "--rpc", lab.rpc])


def test_lec_verify_accepts_the_bundle_and_a_members_receipt(lab: Lab, closed: dict, tallied: dict, tmp_path: Path):
    bundle = lab.call("GET", "auditor", f"/polls/{closed['id']}/bundle").json()
    result = _verify(lab, bundle, tmp_path)
    assert result.exit_code == 0, result.output
    assert "All checks hold" in result.output
    receipt = lab.call("GET", "anna", f"/polls/{closed['id']}/receipt").json()
    mine = _verify(lab, {**bundle, "receipt": receipt}, tmp_path)
    assert mine.exit_code == 0 and "your ballot (Library) is counted" in mine.output


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ("choice", "leaves"),  # a ballot moved to another option: the root no longer matches
        ("counts", "tally"),  # the published counts disagree with the leaves
        ("drop", "leaves"),  # a ballot removed
        ("question", "question"),  # the question reworded after the vote
    ],
)
def test_lec_verify_rejects_a_changed_bundle(lab: Lab, closed: dict, tallied: dict, tmp_path: Path, change, check):
    bundle = lab.call("GET", "auditor", f"/polls/{closed['id']}/bundle").json()
    if change == "choice":
        key, choice = bundle["leaves"][0]
        bundle["leaves"][0] = [key, str((int(choice) + 1) % 3)]
    elif change == "counts":
        bundle["counts"] = [1, 1, 1]
    elif change == "drop":
        bundle["leaves"].pop()
    else:
        bundle["question"] = "Where do the new benches go?"
    result = _verify(lab, bundle, tmp_path)
    assert result.exit_code != 0
    assert f"FAIL {check}" in result.output


def test_a_consistent_forgery_is_caught_by_the_notary(lab: Lab, closed: dict, tallied: dict, tmp_path: Path):
    """A compromised API rewrites a ballot and recomputes root and tally: the Notary still holds the originals."""
    bundle = lab.call("GET", "auditor", f"/polls/{closed['id']}/bundle").json()
    from lec.lab import polls as rules
    from oracle.proofs.merkle import StandardMerkleTree

    bundle["leaves"][0][1] = str((int(bundle["leaves"][0][1]) + 1) % 3)
    leaves = [(k, int(c)) for k, c in bundle["leaves"]]
    bundle["ballotsRoot"] = StandardMerkleTree.of(leaves, rules.BALLOT_LEAF_ENCODING).root
    bundle["counts"] = rules.tally((c for _, c in leaves), 3)
    identity = rules.PollIdentity(1981, bundle["notary"], 1, bundle["pollId"], bundle["questionHash"])
    bundle["tallyHash"] = rules.tally_hash(identity, bundle["eligible"], bundle["counts"])
    result = _verify(lab, bundle, tmp_path)
    assert result.exit_code != 0 and "FAIL notarised" in result.output


def _revert(w3: Web3, fn, sender, error: str, types: list[str], values: list) -> None:  # noqa: ANN001
    """`fn` from `sender` reverts with exactly the custom error `error(values)`."""
    with pytest.raises(ContractCustomError) as info:
        send(w3, fn, sender)
    data = str(info.value.data)
    selector = "0x" + keccak(text=f"{error}({','.join(types)})")[:4].hex()
    assert data == selector + abi_encode(types, values).hex()
    assert error_name(data) == error


def test_a_compromised_admin_key_cannot_replace_a_notarised_result(lab: Lab, closed: dict, tallied: dict):
    forged = lab.notary.functions.notarisePoll(1, closed["id"], "0x" + "22" * 32, "0x" + "33" * 32, 3)
    _revert(lab.w3, forged, ADMIN, "NotaryPollExists", ["uint256", "uint256"], [1, closed["id"]])
    record = lab.notary.functions.pollRecord(1, closed["id"]).call()
    assert "0x" + bytes(record[0]).hex() == tallied["ballots_root"]


def test_a_third_party_cannot_notarise_a_poll(lab: Lab):
    stranger = Account.create()
    lab.w3.provider.make_request("anvil_setBalance", [stranger.address, hex(10**18)])  # type: ignore[arg-type]
    fn = lab.notary.functions.notarisePoll(1, 999, "0x" + "22" * 32, "0x" + "33" * 32, 1)
    _revert(lab.w3, fn, stranger, "NotaryNotCommunityAdmin", ["uint256", "address"], [1, stranger.address])


# ---- right to be forgotten ----------------------------------------------------------------------------


def test_forgetting_a_person_keeps_the_tally_and_unlinks_their_ballot(
    lab: Lab, closed: dict, tallied: dict, tmp_path: Path
):
    with Session(lab.engine) as s:  # type: ignore[arg-type]
        bruno = s.exec(select(User).where(User.email == "lab-bruno@example.org")).one()
        assert bruno.id is not None
        lab_service.forget_person(s, bruno.id)
        s.commit()
        rows = s.exec(select(LabBallot).where(LabBallot.poll_id == closed["id"])).all()
        assert sum(1 for r in rows if r.voter is None and r.salt is None and r.signature is None) == 1
        assert all(r.user_id != bruno.id for r in rows)
    assert lab.call("GET", "bruno", f"/polls/{closed['id']}/receipt").status_code == 404
    bundle = lab.call("GET", "auditor", f"/polls/{closed['id']}/bundle").json()
    assert _verify(lab, bundle, tmp_path).exit_code == 0
