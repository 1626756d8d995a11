"""Clustering: deterministic percentile initialisation, both metrics, per-cluster statistics."""

from __future__ import annotations

import numpy as np
import pytest

from oracle.cluster import cluster_curves, cluster_spread, percentile_centroids


def _two_shapes(seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    slots = np.arange(96)
    evening = 50 + 400 * np.exp(-((slots - 80) ** 2) / 30)
    flat = np.full(96, 120.0)
    return np.vstack(
        [evening + rng.normal(0, 5, 96) for _ in range(6)] + [flat + rng.normal(0, 5, 96) for _ in range(6)]
    )


@pytest.mark.parametrize("metric", ["euclidean", "l1"])
def test_separates_two_shapes_deterministically(metric):
    curves = _two_shapes()
    first = cluster_curves(curves, 2, metric)
    again = cluster_curves(curves, 2, metric)
    np.testing.assert_array_equal(first.labels, again.labels)
    assert len(set(first.labels[:6])) == 1 and len(set(first.labels[6:])) == 1
    assert first.labels[0] != first.labels[6]
    assert sorted(first.sizes) == [6, 6]
    flat = first.labels[6]
    assert first.mean_curves[flat] == pytest.approx(curves[6:].mean(axis=0))
    assert 0 < first.cv[flat] < first.cv[1 - flat]


def test_percentile_centroids_pick_curves_by_daily_energy():
    curves = np.vstack([np.full(4, float(v)) for v in (5, 1, 4, 2, 3, 6)])
    init = percentile_centroids(curves, 3)
    # Ranks at percentiles 1/6, 3/6, 5/6 of six curves: the 2nd, 4th and 6th smallest.
    assert [row[0] for row in init] == [2.0, 4.0, 6.0]


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="Cannot make 5 clusters"):
        cluster_curves(np.ones((3, 96)), 5)
    with pytest.raises(ValueError, match="Unknown metric"):
        cluster_curves(np.ones((3, 96)), 2, "cosine")  # type: ignore[arg-type]


def test_cluster_spread_from_stored_curves_is_the_clusterings_cv():
    result = cluster_curves(_two_shapes(), 2)
    for j in range(2):
        # The API reads the curves back from the database as lists of floats.
        std, cv = cluster_spread(result.mean_curves[j].tolist(), result.std_curves[j].tolist())
        assert cv == pytest.approx(result.cv[j], rel=1e-12)
        assert std == pytest.approx(result.std_curves[j].mean(), rel=1e-12)
    assert cluster_spread([], []) == (0.0, 0.0)
    assert cluster_spread([0.0, 0.0], [1.0, 1.0]) == (1.0, 0.0)  # no load: no meaningful variation
