"""Pure parts of the dApp: calldata, amounts, wallet answers, reward proofs, fee previews and chart frames."""

from __future__ import annotations

import json
from datetime import date
from decimal import Context, Decimal

import numpy as np
import pytest
from eth_utils import function_abi_to_4byte_selector
from hypothesis import given
from hypothesis import strategies as st
from web3 import Web3

from dapp import charts
from dapp.client import revert_sentence
from dapp.components import calls
from dapp.components.wallet import parse_state, wallet_error_sentence
from dapp.views.wallet_ops import FeePreview, parse_reward_claim
from lec.calendar import period_start
from lec.chain.contracts import abi
from oracle.proofs.merkle import StandardMerkleTree

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def web3_calldata(fn: str, *args) -> str:
    contract = Web3().eth.contract(address=TOKEN, abi=abi("CommunityToken"))
    return contract.encode_abi(fn, args=list(args))


def test_calldata_matches_web3_for_every_call_the_pages_send() -> None:
    proof = ["0x" + "ab" * 32, "0x" + "cd" * 32]
    assert calls.transfer_tx(ALICE, TOKEN, BOB, 5)["data"] == web3_calldata("transfer", BOB, 5)
    claim = calls.claim_tx(ALICE, TOKEN, 20261124, 7 * 10**18, proof)
    assert claim["data"] == web3_calldata("claim", 20261124, 7 * 10**18, [bytes.fromhex(p[2:]) for p in proof])
    assert claim == {"from": ALICE, "to": TOKEN, "data": claim["data"], "value": "0x0"}
    fee = calls.encode_call("setTransferFee(uint16)", 250)
    assert fee == web3_calldata("setTransferFee", 250)
    policy = calls.encode_call("setCategoryPolicy(uint8,uint16,uint16,uint16,bool)", 3, 200, 0, 100, True)
    assert policy == web3_calldata("setCategoryPolicy", 3, 200, 0, 100, True)


def test_bad_values_never_become_transactions() -> None:
    with pytest.raises(calls.CallError, match="not an Ethereum address"):
        calls.transfer_tx(ALICE, TOKEN, "0x1234", 1)
    with pytest.raises(calls.CallError, match="32 bytes"):
        calls.claim_tx(ALICE, TOKEN, 20261124, 1, ["0x1234"])
    with pytest.raises(calls.CallError, match="takes 2 arguments"):
        calls.encode_call("transfer(address,uint256)", BOB)
    with pytest.raises(calls.CallError, match="1 to 11 characters"):
        calls.watch_asset_params(TOKEN, "TOOLONGSYMBOL")
    for text in ("", "abc", "-1", "0", "1e400", "NaN", "0.0000000000000000001"):
        with pytest.raises(calls.CallError):
            calls.to_units(text)


@given(st.decimals(min_value=Decimal("1e-18"), max_value=Decimal("1e12"), places=18, allow_nan=False))
def test_amounts_convert_exactly_both_ways(tokens: Decimal) -> None:
    units = calls.to_units(str(tokens))
    assert units == int(tokens.scaleb(18, Context(prec=120)))  # exact, whatever the number of digits
    assert calls.to_tokens(units) == tokens


@given(st.integers(min_value=1, max_value=10**30), st.integers(min_value=0, max_value=1000))
def test_fee_preview_adds_up(amount: int, fee_bps: int) -> None:
    preview = FeePreview(amount=amount, fee=amount * fee_bps // 10_000)
    assert preview.received + preview.fee == amount
    sentence = preview.sentence(fee_bps, "en")
    assert f"({fee_bps / 100:.2f} %)" in sentence and "community treasury" in sentence
    assert "tesoreria della comunità" in preview.sentence(fee_bps, "it")  # Italian by default too
    assert preview.sentence(fee_bps) == preview.sentence(fee_bps, "it")


def test_chain_parameters_are_what_metamask_expects() -> None:
    [params] = calls.add_chain_params(1981, "http://127.0.0.1:8545")
    assert params["chainId"] == "0x7bd" and params["rpcUrls"] == ["http://127.0.0.1:8545"]
    assert calls.switch_chain_params(1981) == [{"chainId": "0x7bd"}]
    assert calls.watch_asset_params(TOKEN.lower(), "DLEC")["options"]["address"] == TOKEN


def test_wallet_answers_become_sentences() -> None:
    assert "rejected" in wallet_error_sentence(4001)
    assert "does not know the LEC network" in wallet_error_sentence(4902)
    assert "install MetaMask" in wallet_error_sentence(-1)
    assert "(boom)" in wallet_error_sentence(1234, "boom")
    state = parse_state({"installed": True, "accounts": [ALICE], "chainId": "0x7bd"})
    assert state.account == ALICE and state.on_chain(1981)
    assert parse_state(None).installed is None and parse_state({"installed": False}).account is None


def test_revert_data_names_the_contract_error() -> None:
    entry = next(
        e for e in abi("CommunityToken") if e.get("type") == "error" and e["name"] == "CommunityTokenNotMember"
    )
    data = "0x" + function_abi_to_4byte_selector(entry).hex() + "00" * 12 + BOB[2:].lower()
    assert "not an active member" in revert_sentence("CommunityToken", data)
    assert revert_sentence("CommunityToken", "0xdeadbeef") == "The contract refused the transaction."


def test_reward_claims_from_a_bundle_or_a_bare_leaf() -> None:
    tree = StandardMerkleTree.of([[ALICE, 5], [BOB, 7]], ["address", "uint256"])
    bundle = {
        "periodId": 20261124,
        "member": {"account": ALICE},
        "reward": {"amount": "5", "leaf": [ALICE, "5"], "proof": tree.get_proof([ALICE, 5])},
    }
    claim = parse_reward_claim(bundle)
    assert (claim.period_id, claim.account, claim.amount) == (20261124, ALICE, 5)
    assert StandardMerkleTree.verify(tree.root, ["address", "uint256"], [claim.account, claim.amount], claim.proof)
    assert claim.due(0) == 5 and claim.due(3) == 2 and claim.due(9) == 0
    bare = parse_reward_claim(json.dumps({"periodId": 20261124, "account": BOB, "amount": 7, "proof": []}))
    assert bare.account == BOB
    with pytest.raises(calls.CallError, match="no reward"):
        parse_reward_claim({**bundle, "reward": None})
    with pytest.raises(calls.CallError, match="has no amount, proof"):
        parse_reward_claim({"periodId": 1, "account": ALICE})
    with pytest.raises(calls.CallError, match="not JSON"):
        parse_reward_claim("{")
    with pytest.raises(calls.CallError, match="positive"):
        parse_reward_claim({"periodId": 1, "account": ALICE, "amount": 0, "proof": []})


def test_chart_frames_keep_units_and_undefined_shares() -> None:
    items = [
        {"day": 20261123, "load_wh": 8000, "production_wh": 0, "self_consumption_wh": 0},
        {"day": 20261124, "load_wh": 4000, "production_wh": 2000, "self_consumption_wh": 1000},
    ]
    frame = charts.daily_frame(items, per=2)
    assert list(frame["Load"]) == [4.0, 2.0]  # kWh per member
    shares = charts.shares(frame)
    assert np.isnan(shares["Self-consumption %"][0]) and shares["Self-consumption %"][1] == 50.0
    assert shares["Self-sufficiency %"][1] == 25.0
    assert charts.daily_frame([]).empty and charts.percentiles([]) == {}
    assert charts.percentiles([1, 2, 3])["P50"] == 2.0


@given(st.lists(st.integers(min_value=0, max_value=5000), min_size=96, max_size=96))
def test_bands_split_all_the_energy(values: list[int]) -> None:
    day = date(2026, 11, 24)  # a Tuesday: all three bands occur
    stamps = period_start(day) + 900 * np.arange(96)
    split = charts.band_split(stamps, np.array(values))
    assert split["kWh"].sum() == pytest.approx(sum(values) / 1000)
    assert list(split["Band"]) == ["F1", "F2", "F3"]
    if sum(values):
        assert split["%"].sum() == pytest.approx(100)


def test_deal_steps_follow_the_contract_rules() -> None:
    from dapp.views import deals

    zero = deals.ZERO
    offer = {"provider": BOB, "payer": zero, "state": deals.OPEN, "side": deals.OFFER}
    assert deals.actions(offer, ALICE) == ["accept"] and deals.pays_on_accept(offer)
    assert deals.actions(offer, BOB) == []  # nobody takes their own offer
    reserved = {**offer, "payer": TOKEN}
    assert deals.actions(reserved, ALICE) == [] and not deals.involves(reserved, ALICE)
    accepted = {**offer, "payer": ALICE, "state": deals.ACCEPTED}
    assert deals.actions(accepted, BOB) == ["complete", "dispute"]
    assert deals.actions(accepted, ALICE) == ["confirm", "dispute"]
    request = {"provider": zero, "payer": ALICE, "state": deals.OPEN, "side": 1}
    assert deals.actions(request, BOB) == ["accept"] and not deals.pays_on_accept(request)
    settled = {**accepted, "state": 5}
    assert deals.actions(settled, ALICE) == [] and deals.involves(settled, ALICE)
