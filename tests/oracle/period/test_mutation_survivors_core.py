"""Tests written for mutants of the core modules that `make mutation` found alive on a sample (docs/testing.md,
"Scores"): each names the mutant it kills. tests/oracle/period/test_mutation_survivors.py holds the earlier ones."""

from __future__ import annotations

import numpy as np
import pytest

from oracle.rewards.models import MemberEnergy, RewardModel, member_uncapped

# ---- oracle/rewards/models.py ----


def test_the_shared_energy_share_is_floored_hour_by_hour_not_once_over_the_period():
    """Mutant `num // safe` → `num / safe` in `_floor_share`: docs/rewards.md floors each hour's share.

    Two hours; in each the member injects 2 Wh of the community's 3 Wh injected, and 1 Wh is shared:
    ⌊1000 · 1 · 2 / 3⌋ = 666 mWh per hour, 1332 over the two (not ⌊1333.3⌋ = 1333). With b = 10⁶ the reward
    in units is the mWh count itself."""
    production = np.array([2, 0, 0, 0, 2, 0, 0, 0])
    member = MemberEnergy("0x" + "00" * 19 + "0a", "prosumer", np.zeros(8, dtype=np.int64), production)
    model = RewardModel("m", "self-consumption", {"a": 0, "b": 10**6, "c": 0, "max_per_period": 10**9})
    shared, injected, withdrawn = np.array([1, 1]), np.array([3, 3]), np.array([1, 1])
    assert member_uncapped(model, member, shared, injected, withdrawn) == 1332


# ---- lec/energy.py ----


def test_quarter_hours_sum_to_hours_for_one_series_and_for_rows():
    """Mutant `quarters.shape[:-1]` → `[:+1]` in `to_hours`: one member's series (1-D, as the KPIs' hourly
    energy passes it) must stay 1-D; rows of members stay rows."""
    from lec.energy import to_hours

    one = to_hours(np.arange(8))
    assert one.shape == (2,) and one.tolist() == [0 + 1 + 2 + 3, 4 + 5 + 6 + 7]
    rows = to_hours(np.arange(16).reshape(2, 8))
    assert rows.shape == (2, 2) and rows.tolist() == [[6, 22], [38, 54]]


# ---- oracle/kpi.py ----


def test_the_kpi_sums_of_two_groups_of_members_add_up_to_the_sums_of_all():
    """Mutants `+` → `-` / `//` in `KpiSums.__add__` (the scale-out engine adds its partitions' sums)."""
    from oracle.kpi import kpi_sums

    load = np.array([[100.0, np.nan, 300.0, 50.0], [20.0, 40.0, 60.0, 80.0], [5.0, 0.0, np.nan, 7.0]])
    production = np.array([[0.0, 10.0, 500.0, 0.0], [30.0, 30.0, 30.0, 30.0], [np.nan, 9.0, 9.0, 9.0]])
    whole = kpi_sums(load, production)
    parts = kpi_sums(load[:1], production[:1]) + kpi_sums(load[1:], production[1:])
    for name in ("load", "production", "self_consumption", "injection", "withdrawal"):
        assert getattr(parts, name).tolist() == getattr(whole, name).tolist(), name
    assert parts.missing == whole.missing == 3
    assert whole.withdrawal.tolist() == [100.0 + 0 + 5, 10.0 + 0, 30.0 + 0, 50.0 + 50 + 0]


def test_the_base_load_share_is_the_base_power_over_the_day_against_the_load():
    """Mutants `base * hours` → `base // hours` and `total_load / 1000` → `* 1000`: half the day at 100 Wh per
    quarter hour (0.4 kW, the 2.5th percentile), half at 300 Wh; the base 0.4 kW × 24 h = 9.6 kWh is half of
    the 19.2 kWh used."""
    from datetime import date

    from lec.calendar import day_grid
    from oracle.kpi import compute_kpis

    grid = day_grid(date(2026, 11, 18))
    load = np.where(np.arange(96) < 48, 100.0, 300.0)
    kpis = compute_kpis(grid, load[None, :], np.zeros((1, 96)))
    assert kpis.base_kw == 0.4 and kpis.load_kwh == 19.2
    assert abs(kpis.base_load_share_pct - 50.0) < 1e-9


def test_the_mean_daily_curve_is_a_true_mean_not_a_floor():
    """Mutant `sums / counts` → `sums // counts` in `mean_daily_curve`: 1 Wh one day, 2 Wh the next: 1.5."""
    from datetime import date

    from lec.calendar import day_grid
    from oracle.kpi import mean_daily_curve

    grid = np.concatenate([day_grid(date(2026, 11, 18)), day_grid(date(2026, 11, 19))])
    curve = mean_daily_curve(grid, np.concatenate([np.ones(96), 2 * np.ones(96)]))
    assert curve.tolist() == [1.5] * 96


# ---- oracle/cluster.py ----


def test_a_clusters_spread_is_its_mean_std_over_its_mean_level():
    """Mutant `std / level` → `std % level` in `cluster_spread` (the existing test compares the function with
    itself through the clustering): mean std 2 over mean level 8 is a CV of 0.25."""
    from oracle.cluster import cluster_spread

    assert cluster_spread([6.0, 10.0], [1.0, 3.0]) == (2.0, 0.25)
    assert cluster_spread([0.0, 0.0], [1.0, 1.0]) == (1.0, 0.0)  # a flat, empty level: 0


def test_one_cluster_and_one_cluster_per_curve_are_both_allowed():
    """Mutants `1 <= k <= len(curves)` → `1 < k` and → `k < len(curves)`: both ends of the range are valid."""
    from oracle.cluster import cluster_curves

    curves = np.array([[1.0, 2.0, 3.0], [1.0, 2.5, 3.0], [9.0, 1.0, 0.0]])
    one = cluster_curves(curves, 1, "l1")
    assert one.labels.tolist() == [0, 0, 0] and one.sizes.tolist() == [3]
    every = cluster_curves(curves, 3, "l1")
    assert sorted(every.labels.tolist()) == [0, 1, 2] and every.sizes.tolist() == [1, 1, 1]


def test_one_l1_cluster_is_centred_on_the_component_wise_median():
    """Mutants of `_kmedians`'s initial labels `-1` → `not 1` (all 0: with every curve in cluster 0 at once the
    loop stopped before moving the centroid) and `metric == "euclidean"` → `>=` ("l1" sorts after it: L1 ran
    k-means). Three curves [0, 0], [1, 5], [4, 2]: the start is the middle curve by daily energy (totals 0, 6, 6,
    rank ⌊3/2⌋ = 1: [1, 5]); the median of the three, slot by slot, is [1, 2] (the mean would be [5/3, 7/3])."""
    from oracle.cluster import cluster_curves

    curves = np.array([[0.0, 0.0], [1.0, 5.0], [4.0, 2.0]])
    l1 = cluster_curves(curves, 1, "l1")
    assert l1.centroids.tolist() == [[1.0, 2.0]] and l1.labels.tolist() == [0, 0, 0]
    euclidean = cluster_curves(curves, 1, "euclidean")
    assert np.allclose(euclidean.centroids, [[5 / 3, 7 / 3]])
    assert np.allclose(l1.mean_curves, [[5 / 3, 7 / 3]])  # the reported mean curve is a mean either way


def test_an_unknown_metric_is_refused_whatever_its_name_sorts_after():
    """Mutants `metric == "euclidean"` → `>=` and `metric == "l1"` → `>=`: a name sorting after them ran k-means
    or k-medians instead of being refused."""
    from oracle.cluster import cluster_curves

    curves = np.array([[1.0, 2.0], [3.0, 4.0]])
    for metric in ("manhattan", "median", "zz", "cosine"):
        with pytest.raises(ValueError, match=f"Unknown metric '{metric}'; use 'euclidean' or 'l1'."):
            cluster_curves(curves, 1, metric)  # type: ignore[arg-type]


def test_a_single_curve_not_in_a_matrix_is_refused_with_the_sentence():
    """Mutants `curves.ndim != 2` → `> 2` / `< 2` and `len(curves) == 0` → `< 0`: a 1-D array (one day not
    wrapped in a row), a 3-D one or an empty matrix got numpy's, scikit-learn's or the k-range's error, not the
    sentence that says what to pass."""
    from oracle.cluster import cluster_curves

    for bad in (np.array([1.0, 2.0, 3.0]), np.array(5.0), np.zeros((0, 96)), np.zeros((2, 3, 4))):
        with pytest.raises(ValueError, match="^Clustering needs a non-empty matrix with one daily curve per row.$"):
            cluster_curves(bad, 1)


def test_the_initial_centroids_are_the_curves_at_the_percentiles_2j_plus_1_over_2k():
    """Mutant `/ (2 * k)` → `/ (2 + k)` in `percentile_centroids` (the same for k = 2, not for k = 1 or 3).
    Ten curves whose daily energies are 0…9, given shuffled: k = 1 takes rank ⌊10/2⌋ = 5; k = 3 takes ranks
    ⌊10/6⌋ = 1, ⌊30/6⌋ = 5, ⌊50/6⌋ = 8 (the mutant: 3; 2, 6, 9)."""
    from oracle.cluster import percentile_centroids

    energies = [7, 2, 9, 0, 5, 3, 8, 1, 6, 4]
    curves = np.array([[e, 0.0] for e in energies])
    assert percentile_centroids(curves, 1).tolist() == [[5.0, 0.0]]
    assert percentile_centroids(curves, 3).tolist() == [[1.0, 0.0], [5.0, 0.0], [8.0, 0.0]]
    assert percentile_centroids(curves, 10).tolist() == [[float(e), 0.0] for e in range(10)]


def test_a_cluster_without_a_stored_std_curve_has_no_spread():
    """Mutant `len(std_curve) == 0` → `< 0` in `cluster_spread`: a cluster stored with a mean curve and no std
    curve got NaN (numpy's mean of nothing) instead of the documented 0."""
    from oracle.cluster import cluster_spread

    assert cluster_spread([5.0, 7.0], []) == (0.0, 0.0)
    assert cluster_spread([], [1.0]) == (0.0, 0.0)


def test_each_clusters_statistics_are_of_its_own_members_only():
    """Mutant `labels == j` → `labels >= j` in `cluster_curves`: cluster 0's mean took every curve. Curves
    [0, 0], [0, 2] (daily energy 0, 2) and [10, 10], [10, 12] (20, 22), k = 2: the starts are ranks ⌊4/4⌋ = 1
    and ⌊12/4⌋ = 3, [0, 2] and [10, 12], so the low pair is cluster 0. Means [0, 1] and [10, 11]; population
    std [0, 1] for both; CV 0.5 / 0.5 = 1 and 0.5 / 10.5."""
    from oracle.cluster import cluster_curves

    curves = np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 2.0], [10.0, 12.0]])
    for metric in ("l1", "euclidean"):
        c = cluster_curves(curves, 2, metric)
        assert c.labels.tolist() == [0, 1, 0, 1] and c.sizes.tolist() == [2, 2]
        assert c.mean_curves.tolist() == [[0.0, 1.0], [10.0, 11.0]]
        assert c.std_curves.tolist() == [[0.0, 1.0], [0.0, 1.0]]
        assert np.allclose(c.cv, [1.0, 0.5 / 10.5])


# ---- lec/market/policy.py ----


def test_a_stakeholder_to_citizen_incentive_is_scaled_by_the_profile_weight_in_one_floor():
    """Mutants of `amount * incentive_bps * profile_weight_bps // (BPS * BPS)` (`*` → `+`, `-`): category 2's
    incentive. 10 001 · 500 · 15 000 / 10⁸ = 750.075 → 750 units; with the neutral weight 10 000, 500.05 → 500."""
    from lec.market.policy import STAKEHOLDER_TO_CITIZEN, Policy, split

    policy = Policy(fee_bps=300, incentive_bps=500)
    weighted = split(
        10_001, policy, category_number=STAKEHOLDER_TO_CITIZEN, with_venue=False, profile_weight_bps=15_000
    )
    assert weighted.incentive == 750
    neutral = split(10_001, policy, category_number=STAKEHOLDER_TO_CITIZEN, with_venue=False)
    assert neutral.incentive == 500
    assert (
        split(10_001, policy, category_number=STAKEHOLDER_TO_CITIZEN, with_venue=False, profile_weight_bps=0).incentive
        == 0
    )


def test_a_members_deal_incentive_is_paid_up_to_its_fee_plus_the_budget_left_a_tasks_in_full():
    """Mutant `fee + budget_left` → `fee % budget_left` in `incentive_paid` (docs/security.md: in a members' deal
    the treasury pays the incentive up to the deal's fee freely and above it only within the recipient's budget
    left for the epoch; a community task has no budget; nothing beyond what the treasury holds). By hand, an
    incentive of 100 units on a deal whose fee is 30: with 50 of budget left 80 is paid (50 of it from the
    budget); with none, 30; an incentive of 60 is paid whole; a treasury of 20 pays 20; a task pays all 100."""
    from lec.market.policy import budget_spent, incentive_paid

    def paid(incentive: int, fee: int, budget: int, category: int = 0, treasury: int = 10**6) -> int:
        return incentive_paid(incentive, fee, category_number=category, budget_left=budget, treasury=treasury)

    assert paid(100, 30, 50) == 80 and budget_spent(80, 100, 30, category_number=0) == 50
    assert paid(100, 30, 0) == 30 and budget_spent(30, 100, 30, category_number=0) == 0
    assert paid(60, 30, 50) == 60 and budget_spent(60, 60, 30, category_number=0) == 30
    assert paid(100, 30, 50, treasury=20) == 20
    assert paid(100, 0, 0, category=5) == 100 and budget_spent(100, 100, 0, category_number=5) == 0


def test_a_venues_share_is_taken_only_when_the_deal_has_a_venue_and_floored():
    """Mutants `… if with_venue else 0` → `if not with_venue` and `// BPS` → `/ BPS` in the venue's share. By
    hand, 10 001 units, fee 300 bps, venue 500 bps: fee ⌊300.03⌋ = 300, venue ⌊500.05⌋ = 500, the provider
    10 001 − 300 − 500 = 9 201; without a venue the provider gets 9 701."""
    from lec.market.policy import Policy, split

    policy = Policy(fee_bps=300, venue_bps=500)
    with_venue = split(10_001, policy, category_number=1, with_venue=True)
    assert (with_venue.to_provider, with_venue.fee, with_venue.venue_share) == (9_201, 300, 500)
    assert type(with_venue.venue_share) is int and with_venue.paid_out == 10_001
    without = split(10_001, policy, category_number=0, with_venue=False)
    assert (without.to_provider, without.fee, without.venue_share) == (9_701, 300, 0)


# ---- lec/energy.py, second round ----


def test_a_weather_station_among_a_members_devices_is_not_energy():
    """Mutant `quantity == EXCHANGE` → `>=` in `grid_point`: "weather" sorts after "exchange", so a weather
    station's temperatures (20, 21 …) were added to the grid meter's withdrawal and injection. A member with
    only a grid meter (withdrawing 5, 0, 0, 7 Wh, injecting 0, 3, 0, 0) and a weather station: the meter's
    readings are its exchange, its load and its production; with a load meter instead, nothing is exchanged."""
    from lec.energy import grid_point

    weather = ("weather", np.array([20, 21, 22, -3]))
    point = grid_point([("exchange", np.array([5, -3, 0, 7])), weather], 4)
    assert point.withdrawal is not None and point.injection is not None
    assert point.withdrawal.tolist() == [5, 0, 0, 7] and point.injection.tolist() == [0, 3, 0, 0]
    assert point.load.tolist() == [5, 0, 0, 7] and point.production.tolist() == [0, 3, 0, 0]
    alone = grid_point([("load", np.array([5, 5, 5, 5])), weather], 4)
    assert alone.load.tolist() == [5, 5, 5, 5] and alone.production.tolist() == [0, 0, 0, 0]
    assert alone.injection is None and alone.withdrawal is None


# ---- lec/energy.py, fourth round ----


@pytest.mark.parametrize("quantity", ["", "battery", "consumption", "ev", "Exchange"])
def test_a_device_of_a_quantity_that_is_not_one_of_the_four_energies_adds_nothing(quantity):
    """Mutant `quantity == EXCHANGE` → `<=` in `grid_point`: only "weather" of FlowQuantity's other values
    reached the branch, and it sorts after "exchange"; a name that sorts before it ("battery", "ev", "" or a
    capitalised "Exchange", as a catalogue written by hand might say) was added to the grid meter's exchange.
    Only load, production, storage and exchange are energy: beside a grid meter (withdrawing 5, 0, 0, 7 Wh,
    injecting 0, 3, 0, 0) such a device changes nothing, and alone it makes no grid meter."""
    from lec.energy import grid_point

    other = (quantity, np.array([4, -2, 6, 0]))
    point = grid_point([("exchange", np.array([5, -3, 0, 7])), other], 4)
    assert point.withdrawal is not None and point.injection is not None
    assert point.withdrawal.tolist() == [5, 0, 0, 7] and point.injection.tolist() == [0, 3, 0, 0]
    assert point.load.tolist() == [5, 0, 0, 7] and point.production.tolist() == [0, 3, 0, 0]
    alone = grid_point([other], 4)
    assert alone.load.tolist() == [0, 0, 0, 0] and alone.production.tolist() == [0, 0, 0, 0]
    assert alone.injection is None and alone.withdrawal is None
