"""The incentive's I/O: a community's members, substations, plants and cleaned readings out of the database,
through the same cleaning and grid-point rules as the period run, into :func:`oracle.incentive.rules.compute_incentive`.

Called by `lec oracle incentive`, the API's incentive route and tests alike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlmodel import Session, select

from lec.calendar import period_start, quarter_hours
from lec.db.models import CommunityProfile, MemberPoint, Plant, UserCommunity
from lec.energy import to_hours
from lec.settings import get_settings
from oracle.incentive.prices import APPROXIMATIONS, eur_to_cents, hourly_prices
from oracle.incentive.rules import IncentiveError, IncentiveResult, Member, Params, compute_incentive
from oracle.incentive.rules import Plant as PlantRule
from oracle.pipeline import PeriodError, clean_inputs, member_energy
from oracle.rewards.models import exchange
from oracle.sources import community_row, load_inputs

MAX_DAYS = 366


def _days(start: date, end: date) -> list[date]:
    if end < start:
        raise IncentiveError("The end date is before the start date.")
    if (end - start).days >= MAX_DAYS:
        raise IncentiveError(f"Compute the incentive over at most {MAX_DAYS} days at a time.")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def community_incentive(
    session: Session,
    chain_community_id: int,
    start: date,
    end: date,
    prices: dict[tuple[int, str], int] | None = None,
    key: str | None = None,
    allocation: str | None = None,
) -> IncentiveResult:
    """The incentive of a community (its on-chain id) from ``start`` to ``end`` (local days, inclusive)."""
    days = _days(start, end)
    try:
        community = community_row(session, chain_community_id)
    except PeriodError as exc:
        raise IncentiveError(str(exc)) from exc
    profile = session.get(CommunityProfile, community.id)
    if profile is None:
        raise IncentiveError(
            f"Community {chain_community_id} has no market zone and region yet: import its manifest with "
            "`lec community import MANIFEST.json` first."
        )
    memberships = session.exec(select(UserCommunity).where(UserCommunity.community_id == community.id)).all()
    kinds = {
        m.user_id: str(m.member_kind.value if hasattr(m.member_kind, "value") else m.member_kind) for m in memberships
    }
    wallets = {m.user_id: str(m.wallet) for m in memberships if m.wallet}
    points = {
        p.user_id: p.substation
        for p in session.exec(select(MemberPoint).where(MemberPoint.community_id == community.id))
    }
    by_wallet = {wallets[u]: u for u in wallets}

    hours: list[int] = []
    injections: dict[str, list[np.ndarray]] = {}
    withdrawals: dict[str, list[np.ndarray]] = {}
    productions: dict[str, list[np.ndarray]] = {}
    metered: set[str] = set()  # members with a production meter: their plants' output is measured, not inferred
    for day in days:
        inputs = load_inputs(session, chain_community_id, day)
        n = quarter_hours(day)
        cleaned = clean_inputs(inputs)
        hours.extend(period_start(day) + 3600 * np.arange(n // 4))
        for member in inputs.members:
            energy = member_energy(member, cleaned, n)
            inj, wdr = exchange(energy)
            injections.setdefault(member.account, []).append(to_hours(inj))
            withdrawals.setdefault(member.account, []).append(to_hours(wdr))
            productions.setdefault(member.account, []).append(to_hours(energy.production.astype(np.int64)))
            if any(d.quantity == "production" for d in member.devices):
                metered.add(member.account)
    members = []
    for account in sorted(injections):
        user_id = by_wallet.get(account)
        if user_id is None or user_id not in points:
            raise IncentiveError(
                f"Member {account} has no primary substation: add it to the manifest and import it again."
            )
        members.append(
            Member(
                account=account,
                kind=kinds[user_id],
                substation=points[user_id],
                injection=np.concatenate(injections[account]).astype(np.int64),
                withdrawal=np.concatenate(withdrawals[account]).astype(np.int64),
                production=np.concatenate(productions[account]).astype(np.int64) if account in metered else None,
            )
        )
    accounts_by_user = {u: w for w, u in by_wallet.items()}
    rows = list(session.exec(select(Plant).where(Plant.community_id == community.id)))
    every_plant = [
        PlantRule(
            id=p.ref,
            account=accounts_by_user.get(p.user_id, ""),
            source=p.source,
            power_w=p.power_w,
            commissioned=p.commissioned,
            substation=p.substation,
            new_plant=p.new_plant,
            pnrr_grant_bps=p.pnrr_grant_bps,
        )
        for p in rows
    ]
    plants = [
        PlantRule(
            id=p.ref,
            account=accounts_by_user[p.user_id],
            source=p.source,
            power_w=p.power_w,
            commissioned=p.commissioned,
            substation=p.substation,
            new_plant=p.new_plant,
            pnrr_grant_bps=p.pnrr_grant_bps,
        )
        for p in rows
        if p.user_id in accounts_by_user and accounts_by_user[p.user_id] in injections
    ]
    settings = get_settings()
    fallback = eur_to_cents(settings.incentive_fallback_pzo_eur_mwh, "LEC_INCENTIVE_FALLBACK_PZO_EUR_MWH")
    pzo, notes = hourly_prices([int(h) for h in hours], profile.zone, prices, fallback)
    params = Params(
        region=profile.region,
        valorisation_cents_mwh=eur_to_cents(settings.incentive_valorisation_eur_mwh, "valorisation"),
        allocation=allocation or profile.allocation,
        key=key or profile.split_key,
        producers_pct=profile.producers_pct,
    )
    result = compute_incentive(members, plants, pzo, params, community_plants=every_plant)
    result.hour_starts = [int(h) for h in hours]
    notes.append(
        (
            "valorisation_year",
            {
                "eur_mwh": f"{params.valorisation_cents_mwh / 100:.2f}",
                "year": str(settings.incentive_valorisation_year),
            },
        )
    )
    result.approximation_codes = [{"code": code, **values} for code, values in notes]
    result.approximations = [APPROXIMATIONS[code].format(**values) for code, values in notes]
    return result


def _eur(cents: int) -> float:
    return round(cents / 100, 2)


def as_json(result: IncentiveResult, chain_community_id: int, start: date, end: date) -> dict[str, Any]:
    """The report as the CLI, the API and the dApp give it: euros with their exact cents beside them."""
    return {
        "community": chain_community_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "key": result.key,
        "allocation": result.allocation,
        "shared_kwh": result.shared_wh / 1000,
        "hourly_shared_kwh": [wh / 1000 for wh in result.hourly_shared_wh],
        "hours": [datetime.fromtimestamp(h, UTC).isoformat() for h in result.hour_starts],
        "tip_eur": _eur(result.tip_cents),
        "tip_cents": result.tip_cents,
        "valorisation_eur": _eur(result.valorisation_cents),
        "valorisation_cents": result.valorisation_cents,
        "total_eur": _eur(result.total_cents),
        "total_cents": result.total_cents,
        "social_eur": _eur(result.social_cents),
        "social_fund_eur": _eur(result.social_fund_cents),
        "undistributed_eur": _eur(result.undistributed_cents),
        "configurations": [
            {
                "substation": c.substation,
                "shared_kwh": c.shared_wh / 1000,
                "injected_kwh": c.injected_wh / 1000,
                "withdrawn_kwh": c.withdrawn_wh / 1000,
                "produced_kwh": c.produced_wh / 1000,
                "capped_kwh": c.capped_wh / 1000,
                "threshold_pct": c.threshold_bps / 100,
                "above_threshold_kwh": c.above_threshold_wh / 1000,
                "tip_eur": _eur(c.tip_cents),
                "social_eur": _eur(c.social_cents),
                "valorisation_eur": _eur(c.valorisation_cents),
            }
            for c in result.configurations
        ],
        "plants": [
            {
                "id": p.id,
                "account": p.account,
                "substation": p.substation,
                "shared_kwh": p.shared_wh / 1000,
                "tip_eur": _eur(p.tip_cents),
                "tip_cents": p.tip_cents,
            }
            for p in result.plants
        ],
        "members": [
            {
                "account": m.account,
                "substation": m.substation,
                "shared_as_producer_kwh": m.shared_as_producer_mwh / 1_000_000,
                "shared_as_consumer_kwh": m.shared_as_consumer_mwh / 1_000_000,
                "eur": _eur(m.cents),
                "cents": m.cents,
                "social_eur": _eur(m.social_cents),
            }
            for m in result.members
        ],
        "approximations": list(result.approximations),
        "approximation_codes": list(result.approximation_codes),
    }
