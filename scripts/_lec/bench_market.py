"""Gas of each marketplace lifecycle step, called by `benchmarks.gas` (`make bench-gas`) for docs/gas.md.

Every figure is the `gasUsed` of a mined transaction (21 000 base included) on warm balances: the parties, the
treasury and the marketplace all hold tokens before the measured step, as in a community that is running.
"""

from __future__ import annotations

from ape import chain, project

from scripts._lec.values import UNIT, ZERO

DESCRIPTION = b"\x42" * 32
# (fee, incentive, venue) bps, every share non-zero where the category has it.
POLICIES = {0: (100, 200, 0), 1: (100, 200, 1_000), 2: (50, 300, 0), 5: (0, 1_000, 0), 7: (0, 1_000, 1_000)}

Row = tuple[str, int, str]


def bench_marketplace(admin, registry, token, users) -> list[Row]:
    """Deploys the community's marketplace and measures offer → accept → complete → confirm and the other paths."""
    buyer, seller = users[0], users[1]  # citizens already in the community
    shop, venue = users[5], users[6]
    for account in (shop, venue):
        if not token.isMember(account):
            token.addMember(account, 2, 0, sender=admin)
    for category, (fee, incentive, venue_bps) in POLICIES.items():
        token.setCategoryPolicy(category, fee, incentive, venue_bps, True, sender=admin)
    market = project.Marketplace.deploy(token, sender=admin)
    deploy_gas = market.creation_metadata.receipt.gas_used
    registry.setMarketplace(token.communityId(), market, sender=admin)
    registry.acceptMarketplace(token.communityId(), market, sender=admin)
    for account in (buyer, seller, shop):
        token.approve(market, 2**256 - 1, sender=account)
    price = UNIT // 10  # 6 minutes of the time bank: the welcome bonus covers every step

    def offer(category=0, provider=seller, venue_=ZERO, cashback=0):
        return market.offer(category, price, DESCRIPTION, ZERO, venue_, cashback, sender=provider)

    offer()  # warm-up deal: the marketplace's counters and balance are non-zero from here on
    market.accept(1, sender=buyer)
    rows: list[Row] = []
    rows.append(("deploy a community's marketplace", deploy_gas, "once per community"))

    tx = offer()
    deal_id = market.dealCount()
    rows.append(("offer (citizen → citizen)", tx.gas_used, "ids, parties, price, description hash, frozen terms"))
    rows.append(("accept an offer: price into escrow", market.accept(deal_id, sender=buyer).gas_used, ""))
    rows.append(("complete", market.complete(deal_id, sender=seller).gas_used, "provider marks the work done"))
    rows.append(
        ("confirm: settle with fee and incentive", market.confirm(deal_id, sender=buyer).gas_used, "3 transfers")
    )

    tx = offer(1, venue_=venue)
    market.accept(market.dealCount(), sender=buyer)
    rows.append(
        (
            "confirm with a venue (citizen → citizen with a venue)",
            market.confirm(market.dealCount(), sender=buyer).gas_used,
            "4 transfers",
        )
    )

    offer(2, provider=shop, cashback=500)
    market.accept(market.dealCount(), sender=buyer)
    rows.append(
        (
            "confirm with a retailer's cashback (stakeholder → citizen)",
            market.confirm(market.dealCount(), sender=buyer).gas_used,
            "4 transfers, profile-weighted incentive",
        )
    )

    tx = market.request(0, price, DESCRIPTION, ZERO, ZERO, sender=buyer)
    rows.append(("request: price into escrow at creation", tx.gas_used, ""))
    rows.append(("cancel an open request: refund", market.cancel(market.dealCount(), sender=buyer).gas_used, ""))

    tx = market.publishTask(5, price, DESCRIPTION, ZERO, ZERO, sender=admin)
    task_id = market.dealCount()
    rows.append(("publish a community task: treasury into escrow", tx.gas_used, "community admin"))
    rows.append(("take a community task", market.accept(task_id, sender=seller).gas_used, ""))
    market.complete(task_id, sender=seller)
    rows.append(("confirm a community task", market.confirm(task_id, sender=admin).gas_used, "community admin"))

    offer()
    deal_id = market.dealCount()
    market.accept(deal_id, sender=buyer)
    rows.append(("dispute", market.dispute(deal_id, sender=buyer).gas_used, ""))
    rows.append(("resolve a dispute 50 / 50", market.resolve(deal_id, 5_000, sender=admin).gas_used, "community admin"))

    offer()
    deal_id = market.dealCount()
    market.accept(deal_id, sender=buyer)
    market.complete(deal_id, sender=seller)
    chain.mine(timestamp=market.expiryOf(deal_id))
    rows.append(("expire an unconfirmed deal: settled", market.expire(deal_id, sender=buyer).gas_used, "anyone"))
    return rows
