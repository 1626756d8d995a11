"""Besu genesis file for the platform's QBFT chain: chain id 1981 and free gas."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from lec.besu.extradata import encode_extra_data

CHAIN_ID = 1981  # the chain id of the original project's network (report §4.2.3), also anvil's here
# The mixHash every IBFT 2.0 / QBFT block carries ("ctical byzantine fault tolerance" in ASCII).
BFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"


@dataclass(frozen=True)
class ChainParams:
    chain_id: int = CHAIN_ID
    block_period_seconds: int = 2
    # With no pending transaction a block comes only this often, so an idle chain does not grow by 43,200
    # blocks a day. Besu 24.12 (our image) reads it as `xemptyblockperiodseconds`; later releases renamed it
    # `emptyblockperiodseconds` and still read the x- name, with a deprecation warning.
    empty_block_period_seconds: int = 60
    epoch_length: int = 30000
    request_timeout_seconds: int = 4
    # Free gas networks raise the 24 KiB limit (Besu's docs); our largest contract fits either way.
    contract_size_limit: int = 2147483647
    gas_limit: int = 0x1FFFFFFFFFFFFF
    deployer_balance_wei: int = 10**24  # gas is free; a balance only lets the deployer send value

    def __post_init__(self) -> None:
        if self.block_period_seconds < 1:
            raise ValueError("blockperiodseconds must be a positive number of seconds.")
        if self.empty_block_period_seconds and self.empty_block_period_seconds < self.block_period_seconds:
            raise ValueError("The empty-block period must be 0 (off) or at least the block period.")
        if self.request_timeout_seconds <= self.block_period_seconds:
            raise ValueError("requesttimeoutseconds must exceed blockperiodseconds, or every round times out.")
        if self.epoch_length < 1:
            raise ValueError("epochlength must be a positive number of blocks.")


def build_genesis(validators: list[str], alloc: dict[str, int], params: ChainParams, timestamp: int) -> dict:
    """The genesis as a JSON-ready dict: QBFT with `validators`, zero base fee, `alloc` balances in wei.

    Milestones up to Shanghai at genesis because the contracts are compiled for the Shanghai EVM (PUSH0);
    London brings EIP-1559, whose base fee `zeroBaseFee` pins to 0.
    """
    return {
        "config": {
            "chainId": params.chain_id,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "zeroBaseFee": True,
            "contractSizeLimit": params.contract_size_limit,
            "qbft": {
                "blockperiodseconds": params.block_period_seconds,
                "xemptyblockperiodseconds": params.empty_block_period_seconds,
                "epochlength": params.epoch_length,
                "requesttimeoutseconds": params.request_timeout_seconds,
            },
        },
        "nonce": "0x0",
        "timestamp": hex(timestamp),
        "gasLimit": hex(params.gas_limit),
        "difficulty": "0x1",
        "mixHash": BFT_MIX_HASH,
        "coinbase": "0x0000000000000000000000000000000000000000",
        "extraData": encode_extra_data(validators),
        "alloc": {to_checksum_address(a)[2:].lower(): {"balance": hex(w)} for a, w in alloc.items()},
    }
