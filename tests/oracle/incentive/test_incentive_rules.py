"""The GSE incentive's rules, each on a case computed by hand (figures in the comments), and the split's sums."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle.incentive.prices import hourly_prices, parse_prices
from oracle.incentive.rules import (
    IncentiveError,
    Member,
    Params,
    Plant,
    compute_incentive,
    tip_rate_cents,
)

A = "0x" + "a" * 40
B = "0x" + "b" * 40
C = "0x" + "c" * 40
D = "0x" + "d" * 40
MWH = 1_000_000  # Wh


def member(account: str, inj: list[int], wdr: list[int], substation: str = "AC001", kind: str = "citizen") -> Member:
    return Member(account, kind, substation, np.array(inj, dtype=np.int64), np.array(wdr, dtype=np.int64))


def plant(
    pid: str, account: str, kw: float = 6, source: str = "pv", commissioned: str = "2025-01-01", **kw_: object
) -> Plant:
    fields = {"substation": "AC001", "new_plant": True, "pnrr_grant_bps": 0, **kw_}
    return Plant(pid, account, source, int(kw * 1000), date.fromisoformat(commissioned), **fields)  # type: ignore[arg-type]


def test_power_classes_caps_and_zonal_price():
    # ≤ 200 kW: 80 + max(0, 180 − PZO), cap 120; ≤ 600 kW: 70 / 110; above: 60 / 100 (€/MWh, here in cents).
    assert tip_rate_cents(200_000, 15_000) == 11_000  # 80 + 30
    assert tip_rate_cents(200_001, 15_000) == 10_000  # 70 + 30
    assert tip_rate_cents(600_001, 15_000) == 9_000  # 60 + 30
    assert tip_rate_cents(200_000, 5_000) == 12_000  # 80 + 130 capped at 120
    assert tip_rate_cents(600_000, 5_000) == 11_000
    assert tip_rate_cents(700_000, 5_000) == 10_000
    assert tip_rate_cents(50_000, 20_000) == 8_000  # a price above 180 adds nothing


def test_one_configuration_by_hand():
    # Hour 0: A injects 1 MWh, B withdraws 0.6 MWh -> shared 0.6 MWh; hour 1: only B withdraws -> 0.
    # TIP: PV 6 kW, PZO 100 € -> min(120, 80 + 80) = 120, + 4 (centre) = 124 €/MWh × 0.6 = 74.40 €.
    # Valorisation: 0.6 × 10.57 = 6.342 € -> 6.34 €. Total 80.74 €.
    # 55 %: injected 1 MWh, threshold 0.55 MWh, above 0.05 MWh -> 74.40 × 0.05 / 0.6 = 6.20 € to citizens only.
    # The rest, 74.40 − 6.20 + 6.34 = 74.54 €, pro rata to shared energy: A (producer) 0.6, B (consumer) 0.6
    # -> 37.27 € each; B, the only citizen consumer, also gets the 6.20 €.
    members = [member(A, [MWH, 0], [0, 0]), member(B, [0, 0], [600_000, 500_000])]
    result = compute_incentive(members, [plant("P1", A)], [10_000, 20_000], Params(region="centre"))
    assert result.hourly_shared_wh == [600_000, 0]
    assert result.tip_cents == 7_440
    assert result.valorisation_cents == 634
    assert result.total_cents == 8_074
    assert result.social_cents == 620
    assert [(p.id, p.shared_wh, p.tip_cents) for p in result.plants] == [("P1", 600_000, 7_440)]
    assert [(m.account, m.cents, m.social_cents) for m in result.members] == [(A, 3_727, 0), (B, 4_347, 620)]
    assert result.configurations[0].above_threshold_wh == 50_000


def test_above_threshold_without_citizen_consumers_stays_a_social_fund():
    members = [member(A, [MWH, 0], [0, 0]), member(B, [0, 0], [600_000, 500_000], kind="stakeholder")]
    result = compute_incentive(members, [plant("P1", A)], [10_000, 20_000])
    assert result.social_fund_cents == 620
    assert sum(m.cents for m in result.members) == 8_074 - 620


def test_members_under_different_substations_do_not_share():
    members = [member(A, [MWH], [0], "AC001"), member(B, [0], [MWH], "AC002")]
    result = compute_incentive(members, [plant("P1", A)], [10_000])
    assert result.hourly_shared_wh == [0] and result.total_cents == 0
    together = compute_incentive([member(A, [MWH], [0]), member(B, [0], [MWH])], [plant("P1", A)], [10_000])
    assert together.hourly_shared_wh == [MWH]
    assert together.tip_cents == 12_400  # 1 MWh × 124 €/MWh


def test_hourly_price_changes_the_tip_hour_by_hour():
    # 1 MWh shared in each of two hours, PZO 150 then 50 €/MWh: (80 + 30) + min(120, 80 + 130) = 110 + 120,
    # plus 10 €/MWh (north) each hour -> 250 €.
    members = [member(A, [MWH, MWH], [0, 0]), member(B, [0, 0], [MWH, MWH])]
    result = compute_incentive(members, [plant("P1", A)], [15_000, 5_000], Params(region="north"))
    assert result.tip_cents == 25_000


def test_regional_correction_is_for_pv_only_and_pnrr_grant_reduces():
    members = [member(A, [MWH], [0]), member(B, [0], [MWH])]
    wind = plant("W1", A, kw=100, source="wind", pnrr_grant_bps=2_000)
    # Wind: no PV correction; PZO 100 -> 120 €/MWh; grant 20 % -> × (1 − 0.5 × 20/40) = × 0.75 -> 90 €.
    result = compute_incentive(members, [wind], [10_000], Params(region="north"))
    assert result.tip_cents == 9_000
    # With a grant the threshold is 45 %: shared 1 MWh, injected 1 MWh -> 0.55 MWh above it.
    assert result.configurations[0].threshold_bps == 4_500
    assert result.social_cents == 9_000 * 550_000 // MWH
    full = compute_incentive(members, [plant("P2", A, pnrr_grant_bps=4_000)], [10_000], Params(region="north"))
    assert full.tip_cents == 6_500  # (120 + 10) × 0.5
    with pytest.raises(IncentiveError, match="40 %"):
        compute_incentive(members, [plant("P3", A, pnrr_grant_bps=4_001)], [10_000])


def test_existing_plants_get_no_tip_but_their_shared_energy_is_valorised():
    # The existing 6 kW plant is 30 % of the community's 20 kW (C's new 14 kW plant produced nothing that hour).
    members = [member(A, [MWH], [0]), member(B, [0], [MWH]), member(C, [0], [0])]
    plants = [plant("OLD", A, new_plant=False), plant("NEW", C, kw=14, commissioned="2025-06-01")]
    result = compute_incentive(members, plants, [10_000])
    assert result.tip_cents == 0
    assert result.valorisation_cents == 1_057
    assert {p.id: p.shared_wh for p in result.plants} == {"OLD": MWH, "NEW": 0}


def test_allocation_by_seniority_or_pro_rata():
    # The old plant (A, 0.6 MWh) and the newer one (C, 0.4 MWh) face 0.5 MWh withdrawn: by seniority the old
    # one takes all 0.5 MWh; pro rata 0.3 and 0.2.
    members = [member(A, [600_000], [0]), member(C, [400_000], [0]), member(B, [0], [500_000])]
    plants = [
        plant(
            "OLD", A, kw=3, commissioned="2023-06-01", new_plant=False
        ),  # 3 of 10 kW: the 30 % existing plants may be
        plant("NEW", C, kw=7, commissioned="2025-03-01"),
    ]
    senior = compute_incentive(members, plants, [10_000])
    assert {p.id: p.shared_wh for p in senior.plants} == {"OLD": 500_000, "NEW": 0}
    assert senior.tip_cents == 0
    pro = compute_incentive(members, plants, [10_000], Params(allocation="pro_rata"))
    assert {p.id: p.shared_wh for p in pro.plants} == {"OLD": 300_000, "NEW": 200_000}
    assert pro.tip_cents == 2_480  # 0.2 MWh × 124 €/MWh


def test_a_members_plants_share_its_injection_by_power():
    members = [member(A, [900_000], [0]), member(B, [0], [MWH])]
    plants = [plant("P1", A, kw=2, commissioned="2025-01-01"), plant("P2", A, kw=4, commissioned="2025-01-01")]
    result = compute_incentive(members, plants, [10_000], Params(allocation="pro_rata"))
    assert {p.id: p.shared_wh for p in result.plants} == {"P1": 300_000, "P2": 600_000}


def test_split_keys_by_hand():
    # One hour: A injects 1 MWh, C injects 1 MWh (an existing 2 kW plant: 25 % of the power), B withdraws 1 MWh,
    # D withdraws 1 MWh: shared 2 MWh. TIP only on A's new plant: 1 MWh (its injection) -> 124 €; valorisation
    # 2 × 10.57 = 21.14 €. Threshold: injected 2 MWh, 55 % = 1.1 MWh, above 0.9 MWh -> 124 × 0.9 / 2 = 55.80 € to
    # citizen consumers.
    members = [member(A, [MWH], [0]), member(B, [0], [MWH]), member(C, [MWH], [0]), member(D, [0], [MWH])]
    plants = [plant("P1", A), plant("OLD", C, kw=2, new_plant=False)]
    base = 12_400 - 5_580 + 2_114  # 89.34 € split by the key
    equal = compute_incentive(members, plants, [10_000], Params(key="equal"))
    assert equal.tip_cents == 12_400 and equal.social_cents == 5_580
    # 8 934 / 4 = 2 233.5: the two units left go to the lowest addresses (A, B) on equal remainders.
    assert [m.cents - m.social_cents for m in equal.members] == [2_234, 2_234, 2_233, 2_233]
    assert [m.social_cents for m in equal.members] == [0, 2_790, 0, 2_790]
    pc = compute_incentive(members, plants, [10_000], Params(key="producers_consumers", producers_pct=30))
    # 30 % of 89.34 € = 26.80 € to producers (A, C equally), 62.54 € to consumers (B, D equally).
    assert [m.cents - m.social_cents for m in pc.members] == [1_340, 3_127, 1_340, 3_127]
    assert sum(m.cents for m in pc.members) == base + 5_580


def test_refusals_name_the_fault():
    members = [member(A, [MWH], [0], "AC001"), member(B, [0], [MWH], "AC002")]
    with pytest.raises(IncentiveError, match="substation AC002 but its member"):
        compute_incentive(members, [plant("P1", A, substation="AC002")], [10_000])
    with pytest.raises(IncentiveError, match="not a member"):
        compute_incentive(members, [plant("P1", C)], [10_000])
    with pytest.raises(IncentiveError, match="split key"):
        compute_incentive(members, [], [10_000], Params(key="by_friendship"))


def test_prices_file_hourly_and_fallback_flagged():
    text = "datetime,zone,pzo_eur_mwh\n2026-05-01T13:00+02:00,NORD,101.235\n2026-05-01 14:00,NORD,99\n"
    prices = parse_prices(text)
    hours = [1777633200, 1777636800, 1777640400]  # 11:00, 12:00, 13:00 UTC
    values, notes = hourly_prices(hours, "NORD", prices, 10_000)
    assert values == [10_124, 9_900, 10_000]
    assert notes == [("missing_prices", {"missing": "1", "hours": "3", "zone": "NORD", "eur_mwh": "100.00"})]
    assert hourly_prices(hours, "NORD", None, 10_000)[1] == [("single_price", {"eur_mwh": "100.00"})]
    with pytest.raises(IncentiveError, match="line 2"):
        parse_prices("datetime,zone,pzo_eur_mwh\n2026-05-01T13:30+02:00,NORD,1\n")
    with pytest.raises(IncentiveError, match="unknown market zone"):
        parse_prices("datetime,zone,pzo_eur_mwh\n2026-05-01T13:00+02:00,MARS,1\n")


def test_shared_energy_is_capped_at_what_the_plants_produce():
    # Hour 0: A's production meter reads 0.4 MWh but A injects 1 MWh (its battery discharges energy bought from
    # the grid); B withdraws 1 MWh. min(injected, withdrawn) = 1 MWh, the plants produced 0.4 MWh -> shared 0.4 MWh,
    # 0.6 MWh capped; the plant's TIP 0.4 × 124 = 49.60 €; valorisation 0.4 × 10.57 = 4.228 -> 4.22 €.
    a = Member(A, "citizen", "AC001", np.array([MWH, 0]), np.array([0, 0]), production=np.array([400_000, 0]))
    members = [a, member(B, [0, 0], [MWH, 0])]
    result = compute_incentive(members, [plant("P1", A)], [10_000, 10_000])
    assert result.hourly_shared_wh == [400_000, 0]
    config = result.configurations[0]
    assert (config.produced_wh, config.capped_wh, config.shared_wh) == (400_000, 600_000, 400_000)
    assert [(p.id, p.shared_wh, p.tip_cents) for p in result.plants] == [("P1", 400_000, 4_960)]
    assert result.valorisation_cents == 422
    # A configuration without plants shares nothing, whatever its members inject: C's injection comes from no
    # plant of the community.
    alone = compute_incentive([member(C, [MWH], [0], "AC002"), member(D, [0], [MWH], "AC002")], [], [10_000])
    assert alone.hourly_shared_wh == [0] and alone.configurations[0].capped_wh == MWH and alone.total_cents == 0
    # Without a production meter the member's injection stands for its plants' output: nothing is capped.
    plain = compute_incentive([member(A, [MWH], [0]), member(B, [0], [MWH])], [plant("P1", A)], [10_000])
    assert plain.hourly_shared_wh == [MWH] and plain.configurations[0].capped_wh == 0


def test_existing_plants_may_be_at_most_30_pct_of_the_communitys_power():
    # 3 kW existing out of 10 kW is exactly 30 %: allowed; the community's power counts every substation.
    members = [member(A, [MWH], [0]), member(B, [0], [MWH]), member(C, [0], [0], "AC002")]
    ok = [plant("OLD", A, kw=3, new_plant=False), plant("NEW", C, kw=7, substation="AC002")]
    assert compute_incentive(members, ok, [10_000]).valorisation_cents == 1_057
    # 3.01 kW of 10.01 kW is 30.07 %: refused, saying by how much and what to do.
    over = [plant("OLD", A, kw=3.01, new_plant=False), plant("NEW", C, kw=7, substation="AC002")]
    with pytest.raises(IncentiveError, match=r"3\.01 kW, 30\.1 % of the community's 10\.01 kW: at most 30 %"):
        compute_incentive(members, over, [10_000])
    with pytest.raises(IncentiveError, match="at most 30 %"):
        compute_incentive(members, [plant("OLD", A, new_plant=False)], [10_000])
    # The ceiling is the community's: a new plant whose member sent nothing this period still counts (the service
    # passes every plant of the community), and the refusal does not depend on who sent readings.
    absent = plant("NEW", D, kw=7)
    two = [member(A, [MWH], [0]), member(B, [0], [MWH])]
    old = [plant("OLD", A, kw=3, new_plant=False)]
    assert compute_incentive(two, old, [10_000], community_plants=[*old, absent]).valorisation_cents == 1_057
    with pytest.raises(IncentiveError, match="at most 30 %"):
        compute_incentive(two, ok[:1], [10_000], community_plants=[*over])


def model_shared(members: list[Member], plants: list[Plant]) -> dict[str, list[int]]:
    """The reference: per substation and hour, min(Σ injected, Σ withdrawn, Σ produced by its plants' members)."""
    out: dict[str, list[int]] = {}
    for sub in sorted({m.substation for m in members}):
        group = [m for m in members if m.substation == sub]
        producers = {p.account for p in plants if p.substation == sub}
        hours = len(group[0].injection)
        series = []
        for h in range(hours):
            injected = sum(int(m.injection[h]) for m in group)
            withdrawn = sum(int(m.withdrawal[h]) for m in group)
            produced = sum(
                int((m.injection if m.production is None else m.production)[h]) for m in group if m.account in producers
            )
            series.append(min(injected, withdrawn, produced))
        out[sub] = series
    return out


ACCOUNTS = [A, B, C, D, "0x" + "1" * 40, "0x" + "e" * 40]
wh = st.integers(min_value=0, max_value=3 * MWH)


@settings(max_examples=120, deadline=None)
@given(
    data=st.data(),
    hours=st.integers(min_value=1, max_value=6),
    n=st.integers(min_value=1, max_value=6),
    key=st.sampled_from(["pro_rata", "equal", "producers_consumers"]),
    allocation=st.sampled_from(["seniority", "pro_rata"]),
    pct=st.integers(min_value=0, max_value=100),
)
def test_every_cent_is_accounted_for(data, hours, n, key, allocation, pct):
    members = [
        Member(
            ACCOUNTS[i],
            data.draw(st.sampled_from(["citizen", "stakeholder"])),
            data.draw(st.sampled_from(["AC001", "AC002"])),
            np.array(data.draw(st.lists(wh, min_size=hours, max_size=hours)), dtype=np.int64),
            np.array(data.draw(st.lists(wh, min_size=hours, max_size=hours)), dtype=np.int64),
            data.draw(st.none() | st.lists(wh, min_size=hours, max_size=hours).map(np.array)),
        )
        for i in range(n)
    ]
    plants = [
        Plant(
            f"P{i}",
            m.account,
            data.draw(st.sampled_from(["pv", "wind"])),
            data.draw(st.integers(min_value=1_000, max_value=900_000)),
            date(2024, 1, 1 + data.draw(st.integers(min_value=0, max_value=27))),
            m.substation,
            data.draw(st.booleans()),
            data.draw(st.integers(min_value=0, max_value=4_000)),
        )
        for i, m in enumerate(members)
        if data.draw(st.booleans())
    ]
    prices = data.draw(st.lists(st.integers(min_value=0, max_value=40_000), min_size=hours, max_size=hours))
    params = Params(key=key, allocation=allocation, producers_pct=pct)
    existing = sum(p.power_w for p in plants if not p.new_plant)
    if 10 * existing > 3 * sum(p.power_w for p in plants):  # the model of the 30 % rule
        with pytest.raises(IncentiveError, match="at most 30 %"):
            compute_incentive(members, plants, prices, params)
        plants = [p for p in plants if p.new_plant]
    result = compute_incentive(members, plants, prices, params)
    assert (
        sum(m.cents for m in result.members) + result.social_fund_cents + result.undistributed_cents
        == result.total_cents
    )
    assert sum(p.tip_cents for p in result.plants) == result.tip_cents
    assert sum(c.valorisation_cents for c in result.configurations) == result.valorisation_cents
    assert sum(c.social_cents for c in result.configurations) == result.social_cents <= result.tip_cents
    assert all(m.cents >= 0 for m in result.members)
    # Shared energy is the model's, hour by hour: within one substation and at most what its plants produced; no
    # plant is given more than the configuration shared nor more than it produced.
    model = model_shared(members, plants)
    assert result.hourly_shared_wh == [sum(series[h] for series in model.values()) for h in range(hours)]
    by_account = {m.account: m for m in members}
    for c in result.configurations:
        assert c.shared_wh == sum(model[c.substation])
        own = [p for p in result.plants if p.substation == c.substation]
        assert sum(p.shared_wh for p in own) <= c.shared_wh <= c.produced_wh
        for account in {p.account for p in own}:
            m = by_account[account]
            cap = m.injection if m.production is None else np.minimum(m.injection, m.production)
            assert sum(p.shared_wh for p in own if p.account == account) <= int(cap.sum())
    if key != "equal" and result.shared_wh == 0:
        assert all(m.cents == 0 for m in result.members)
