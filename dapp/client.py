"""What the pages read: the platform API (with the user's bearer token) and the chain (public views).

Pages only render; every request, unit conversion and error sentence lives here. Transactions are never sent
from Python: they are encoded in `dapp.components.calls` and signed in the user's wallet.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from eth_typing import HexStr
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from dapp.i18n import t
from lec.chain.contracts import DeploymentError, abi, load_deployments
from lec.chain.reverts import sentence_for_data
from lec.settings import get_settings, rpc_url

DEFAULT_API_URL = "http://127.0.0.1:8000/api/v1"  # LEC_API_URL: the API's versioned base URL
LEC_CHAIN_ID = 1981


class ClientError(RuntimeError):
    """Something the platform or the chain refused or could not answer; the message is for the user."""


class NotFoundError(ClientError):
    """The platform has no such record (HTTP 404); pages that expect an empty answer catch this one."""


# ---------------------------------------------------------------------------------------------- chain


def revert_sentence(contract: str, data: str | None) -> str:
    """A sentence for revert data (selector + arguments) of `contract`'s custom errors."""
    return sentence_for_data(data, (contract,))


@dataclass(frozen=True)
class ChainCommunity:
    """A community as the Registry holds it; `chain_community_id` is the Registry's id, not the platform's."""

    chain_community_id: int
    name: str
    token: str
    marketplace: str | None
    admin: str


@dataclass(frozen=True)
class MemberRecord:
    active: bool
    kind: int
    profile: int


STAKEHOLDER_KIND = 2  # CommunityToken.MemberKind: None, Citizen, Stakeholder


class Chain:
    """Read-only views of the platform's contracts at `LEC_RPC_URL` (no keys, no transactions)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or rpc_url()
        self.w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 10}))

    def chain_id(self) -> int:
        try:
            return self.w3.eth.chain_id
        except Exception as exc:  # requests' connection errors and RPC errors alike
            raise ClientError(f"The chain node at {self.url} does not answer: start it with `make chain`.") from exc

    def deployments(self) -> dict[str, Any]:
        try:
            return load_deployments(self.chain_id())
        except DeploymentError as exc:
            raise ClientError(f"{exc} The demo does it all: `make demo`.") from exc

    def contract(self, name: str, address: str):
        return self.w3.eth.contract(address=to_checksum_address(address), abi=abi(name))

    def communities(self) -> list[ChainCommunity]:
        registry = self.contract("Registry", self.deployments()["contracts"]["Registry"])
        found = []
        for cid in range(1, registry.functions.communityCount().call() + 1):
            c = registry.functions.community(cid).call()
            marketplace = c[2] if int(c[2], 16) else None
            found.append(ChainCommunity(cid, name=c[0], token=c[1], marketplace=marketplace, admin=c[3]))
        return found

    def community(self, chain_community_id: int) -> ChainCommunity:
        for c in self.communities():
            if c.chain_community_id == chain_community_id:
                return c
        raise ClientError(f"There is no community {chain_community_id} on chain {self.chain_id()}.")

    def token(self, chain_community_id: int):
        return self.contract("CommunityToken", self.community(chain_community_id).token)

    def balance(self, chain_community_id: int, account: str) -> int:
        return self.token(chain_community_id).functions.balanceOf(to_checksum_address(account)).call()

    def symbol(self, chain_community_id: int) -> str:
        return self.token(chain_community_id).functions.symbol().call()

    def fee_of(self, chain_community_id: int, units: int) -> int:
        return self.token(chain_community_id).functions.transferFeeOf(units).call()

    def member(self, chain_community_id: int, account: str) -> MemberRecord:
        record = self.token(chain_community_id).functions.member(to_checksum_address(account)).call()
        return MemberRecord(kind=record[0], profile=record[1], active=record[2])

    def claimed(self, chain_community_id: int, period_id: int, account: str) -> int:
        return self.token(chain_community_id).functions.claimed(period_id, to_checksum_address(account)).call()

    def token_policy(self, chain_community_id: int) -> dict[str, Any]:
        token = self.token(chain_community_id)
        f = token.functions
        return {
            "fee_bps": f.feeBps().call(),
            "welcome_bonus": {"citizen": f.welcomeBonus(1).call(), "stakeholder": f.welcomeBonus(2).call()},
            "exchange_rate": f.exchangeRate().call(),
            "treasury": f.treasuryBalance().call(),
            "paused": f.paused().call(),
            "categories": [
                dict(zip(("fee_bps", "incentive_bps", "venue_bps", "enabled"), f.categoryPolicy(c).call(), strict=True))
                for c in range(8)
            ],
        }

    def models(self) -> list[dict[str, Any]]:
        models = self.contract("RewardModels", self.deployments()["contracts"]["RewardModels"])
        rows = []
        for model_id in range(1, models.functions.modelCount().call() + 1):
            m = models.functions.model(model_id).call()
            rows.append(
                {
                    "id": model_id,
                    "name": m[0],
                    "kind": m[1],
                    "version": m[2],
                    "params": m[3],
                    "params_hash": "0x" + m[4].hex(),
                    "registered_at": m[5],
                    "registered_by": m[6],
                }
            )
        return rows

    def has_role(self, chain_community_id: int, role: str, account: str) -> bool:
        return (
            self.token(chain_community_id)
            .functions.hasRole(Web3.keccak(text=role), to_checksum_address(account))
            .call()
        )

    def total_supply(self, chain_community_id: int) -> int:
        return self.token(chain_community_id).functions.totalSupply().call()

    def claims(self, chain_community_id: int, account: str | None = None) -> list[dict[str, Any]]:
        """Every reward claimed in the community (RewardClaimed events: public on chain), oldest first."""
        token = self.token(chain_community_id)
        start = int(self.deployments().get("deployedAtBlock", 0))
        filters = {"account": to_checksum_address(account)} if account else None
        events = token.events.RewardClaimed.get_logs(from_block=start, argument_filters=filters)
        return [
            {
                "period": e["args"]["periodId"],
                "account": e["args"]["account"],
                "amount": e["args"]["amount"],
                "version": e["args"]["version"],
                "block": e["blockNumber"],
            }
            for e in events
        ]

    def period_runs(self, chain_community_id: int) -> list[dict[str, Any]]:
        """Every notarised version of the community's periods (PeriodNotarised events, public on chain), newest
        first: the roots, the transaction, the correction's reason and how much of the rewards was claimed."""
        notary = self.contract("Notary", self.deployments()["contracts"]["Notary"])
        start = int(self.deployments().get("deployedAtBlock", 0))
        wanted = {"communityId": chain_community_id}
        published = notary.events.PeriodNotarised.get_logs(from_block=start, argument_filters=wanted)
        reasons = {
            (e["args"]["periodId"], e["args"]["version"]): e["args"]["reason"]
            for e in notary.events.PeriodCorrected.get_logs(from_block=start, argument_filters=wanted)
        }
        latest: dict[int, int] = {}
        for e in published:
            latest[e["args"]["periodId"]] = max(latest.get(e["args"]["periodId"], 0), e["args"]["version"])
        claimed: dict[int, int] = {}
        for c in self.claims(chain_community_id):
            claimed[c["period"]] = claimed.get(c["period"], 0) + c["amount"]
        rows = []
        for e in published:
            a = e["args"]
            rows.append(
                {
                    "period": a["periodId"],
                    "version": a["version"],
                    "latest": a["version"] == latest[a["periodId"]],
                    "correction_reason": reasons.get((a["periodId"], a["version"])),
                    "data_root": "0x" + a["dataRoot"].hex(),
                    "rewards_root": "0x" + a["rewardsRoot"].hex(),
                    "total_rewards": a["totalRewards"],
                    "leaf_count": a["leafCount"],
                    "model_id": a["modelId"],
                    "claimed": claimed.get(a["periodId"], 0) if a["version"] == latest[a["periodId"]] else None,
                    "transaction": "0x" + bytes(e["transactionHash"]).hex(),
                    "block": e["blockNumber"],
                }
            )
        return sorted(rows, key=lambda r: (r["period"], r["version"]), reverse=True)

    def stakeholders(self, chain_community_id: int) -> list[str]:
        """The community's active stakeholder members (MemberAdded events, checked against today's record)."""
        token = self.token(chain_community_id)
        start = int(self.deployments().get("deployedAtBlock", 0))
        added = {e["args"]["account"] for e in token.events.MemberAdded.get_logs(from_block=start)}
        found = []
        for account in sorted(added):
            record = self.member(chain_community_id, account)
            if record.active and record.kind == STAKEHOLDER_KIND:
                found.append(account)
        return found

    def receipt_used(self, chain_community_id: int, receipt_hash: bytes) -> bool:
        return bool(self.token(chain_community_id).functions.receiptUsed(receipt_hash).call())

    def sales(self, chain_community_id: int) -> list[dict[str, Any]]:
        """Every sale of tokens to a stakeholder (TokensSold events: public on chain), newest first."""
        token = self.token(chain_community_id)
        start = int(self.deployments().get("deployedAtBlock", 0))
        rows = [
            {
                "buyer": e["args"]["buyer"],
                "paid_cents": e["args"]["paidCents"],
                "amount": e["args"]["amount"],
                "receipt_hash": "0x" + bytes(e["args"]["receiptHash"]).hex(),
                "transaction": "0x" + bytes(e["transactionHash"]).hex(),
                "block": e["blockNumber"],
            }
            for e in token.events.TokensSold.get_logs(from_block=start)
        ]
        return rows[::-1]

    def marketplace(self, chain_community_id: int):
        address = self.community(chain_community_id).marketplace
        return self.contract("Marketplace", address) if address else None

    def deals(self, chain_community_id: int) -> list[dict[str, Any]]:
        """Every deal of the community's marketplace (ids from 1), as the contract's `Deal` struct."""
        market = self.marketplace(chain_community_id)
        if market is None:
            return []
        names = [
            c["name"]
            for c in next(e for e in abi("Marketplace") if e.get("name") == "deal")["outputs"][0]["components"]
        ]
        rows = []
        for deal_id in range(1, market.functions.dealCount().call() + 1):
            rows.append({"id": deal_id, **dict(zip(names, market.functions.deal(deal_id).call(), strict=True))})
        return rows

    def settlement_preview(self, chain_community_id: int, deal_id: int) -> dict[str, int]:
        split, _incentive_to = self.marketplace(chain_community_id).functions.previewSettlement(deal_id).call()
        return dict(zip(("to_provider", "fee", "venue_share", "cashback", "incentive"), split, strict=True))

    def allowance(self, chain_community_id: int, owner: str, spender: str) -> int:
        return self.token(chain_community_id).functions.allowance(to_checksum_address(owner), spender).call()

    def preflight(self, contract: str, tx: dict[str, str]) -> str | None:
        """Simulates a transaction before the wallet is asked: a sentence if the chain would refuse it."""
        try:
            self.w3.eth.call({"from": tx["from"], "to": tx["to"], "data": HexStr(tx["data"])})
        except ContractCustomError as exc:
            return revert_sentence(contract, exc.data if isinstance(exc.data, str) else None)
        except (ContractLogicError, Web3RPCError) as exc:
            return f"The contract refused the transaction ({exc})."
        return None


# ---------------------------------------------------------------------------------------------- API


def api_url() -> str:
    return get_settings().api_url.rstrip("/")


class Api:
    """The platform API, called with the signed-in user's bearer token."""

    def __init__(self, token: str | None, base_url: str | None = None, timeout: float = 15.0) -> None:
        self.base_url = (base_url or api_url()).rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)
        # A page builds one client per script run: the same GET asked twice in a run is answered once (any write
        # forgets what was read), so a click costs the API the calls it needs and the caller's rate limit lasts.
        self._read: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            reply = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(t("common.api_down")) from exc
        if reply.status_code == 401:
            raise ClientError(t("common.session_expired"))
        if reply.status_code == 403:
            raise ClientError(t("common.no_role"))
        if reply.status_code == 404:
            raise NotFoundError(t("common.not_found", detail=_detail(reply)))
        if reply.status_code == 429:
            raise ClientError(t("common.too_many", seconds=reply.headers.get("Retry-After", "60")))
        if reply.status_code >= 400:
            raise ClientError(t("common.refused", detail=_detail(reply)))
        return reply.json() if reply.content else None

    def get(self, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        key = (path, tuple(sorted(query.items())))
        if key not in self._read:
            self._read[key] = self._request("GET", path, params=query)
        return copy.deepcopy(self._read[key])

    def _write(self, method: str, path: str, **kwargs: Any) -> Any:
        self._read.clear()
        return self._request(method, path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._write("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any = None) -> Any:
        return self._write("PATCH", path, json=body)

    def put(self, path: str, body: Any = None) -> Any:
        return self._write("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        return self._write("DELETE", path)

    # The routes the pages use (see the API's OpenAPI document at /docs).
    def me(self) -> dict[str, Any]:
        return self.get("/me")

    def communities(self) -> list[dict[str, Any]]:
        return self.get("/communities")

    def my_daily(self, community_id: int, start: date, end: date) -> dict[str, Any]:
        return self.get(f"/communities/{community_id}/me/daily", **{"from": start.isoformat(), "to": end.isoformat()})

    def member_daily(self, community_id: int, user_id: int, start: date, end: date) -> dict[str, Any]:
        return self.get(
            f"/communities/{community_id}/members/{user_id}/daily", **{"from": start.isoformat(), "to": end.isoformat()}
        )

    def community_kpis(self, community_id: int, start: date, end: date) -> list[dict[str, Any]]:
        return self.get(f"/communities/{community_id}/kpis", **{"from": start.isoformat(), "to": end.isoformat()})

    def members(self, community_id: int) -> list[dict[str, Any]]:
        return self.get(f"/communities/{community_id}/members", limit=400)["items"]

    def devices(self, community_id: int) -> list[dict[str, Any]]:
        return self.get(f"/communities/{community_id}/devices", limit=400)["items"]

    def registrations(self, community_id: int) -> list[dict[str, Any]]:
        return self.get(f"/communities/{community_id}/registrations")

    def decide(self, community_id: int, registration_id: int, approve: bool) -> dict[str, Any]:
        verb = "approve" if approve else "reject"
        return self.post(f"/communities/{community_id}/registrations/{registration_id}/{verb}")

    def periods(self, community_id: int, notarised_only: bool = False) -> list[dict[str, Any]]:
        return self.get(f"/communities/{community_id}/periods", notarised_only=str(notarised_only).lower())

    def bundle(self, community_id: int, period_id: int, account: str | None = None) -> dict[str, Any]:
        return self.get(f"/communities/{community_id}/periods/{period_id}/bundle", account=account)

    def verify(self, bundle: dict[str, Any]) -> dict[str, Any]:
        return self.post("/verify", {"bundle": bundle})

    def anomalies(self, community_id: int, reason: str | None = None, limit: int = 200) -> dict[str, Any]:
        """A page of the community's anomalies, newest first (community admin, auditor, platform admin)."""
        return self.get(f"/communities/{community_id}/anomalies", reason=reason, limit=limit)

    def clusters(self, community_id: int) -> dict[str, Any] | None:
        """The community's latest clustering run; None when the oracle has not clustered the community yet."""
        try:
            return self.get(f"/communities/{community_id}/clusters")
        except NotFoundError:
            return None

    # The time bank and the person's own account.
    def listings(self, community_id: int) -> list[dict[str, Any]]:
        """The community's open listings (offers, requests and community tasks with their text), newest first."""
        return self.get(f"/communities/{community_id}/listings", limit=200)["items"]

    def post_listing(self, community_id: int, listing: dict[str, Any]) -> dict[str, Any]:
        return self.post(f"/communities/{community_id}/listings", listing)

    def people(self, community_id: int) -> list[dict[str, Any]]:
        """The community's active members by display name, with their wallets."""
        return self.get(f"/communities/{community_id}/people")

    def rate(self, community_id: int, deal_id: int, stars: int, comment: str) -> dict[str, Any]:
        return self.post(f"/communities/{community_id}/deals/{deal_id}/rating", {"stars": stars, "comment": comment})

    def dispute_reason(self, community_id: int, deal_id: int, reason: str) -> dict[str, Any]:
        return self.put(f"/communities/{community_id}/deals/{deal_id}/dispute-reason", {"reason": reason})

    def dispute_reasons(self, community_id: int) -> list[dict[str, Any]]:
        return self.get(f"/communities/{community_id}/disputes")

    def profile(self, community_id: int, wallet: str) -> dict[str, Any]:
        return self.get(f"/communities/{community_id}/profiles/{wallet}")

    def target(self, community_id: int) -> dict[str, Any] | None:
        return self.get(f"/communities/{community_id}/me/target")

    def save_target(self, community_id: int, hours: str) -> dict[str, Any]:
        return self.put(f"/communities/{community_id}/me/target", {"hours": hours})

    def update_me(self, changes: dict[str, Any]) -> dict[str, Any]:
        return self._request("PATCH", "/me", json=changes)

    def delete_me(self) -> None:
        self.delete("/me")

    def leave(self, community_id: int) -> None:
        self.delete(f"/me/communities/{community_id}")


def _detail(reply: httpx.Response) -> str:
    try:
        body = reply.json()
    except ValueError:
        return reply.text[:200] or reply.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return detail if isinstance(detail, str) else json.dumps(detail)[:300]
