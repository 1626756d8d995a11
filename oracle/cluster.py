"""Clustering of daily load curves (DESIGN §5.5, report §5.2.5).

k-means with deterministic initial centroids chosen by the percentile method of Nepal et al. (2019): the
curves are ranked by their daily energy, and centroid j starts as the curve at the empirical-CDF
percentile (2j+1)/(2k) of that ranking, so repeated runs always converge to the same clusters. Euclidean
distance uses scikit-learn's KMeans; L1 uses k-medians (the mean minimises squared L2, the median L1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Metric = Literal["euclidean", "l1"]
_MAX_ITER = 300


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray  # cluster of each curve, 0..k-1
    centroids: np.ndarray  # (k, slots) the fitted centres
    mean_curves: np.ndarray  # (k, slots) mean of the member curves
    std_curves: np.ndarray  # (k, slots)
    cv: np.ndarray  # (k,) coefficient of variation: mean std over mean level (0 for an empty or flat cluster)
    sizes: np.ndarray  # (k,)


def cluster_spread(
    mean_curve: Sequence[float] | np.ndarray, std_curve: Sequence[float] | np.ndarray
) -> tuple[float, float]:
    """A cluster's (mean standard deviation, coefficient of variation) from its mean and std curves: the CV is
    the mean std over the mean level, 0 for an empty or flat cluster. The API recomputes it from the stored
    curves with this same function."""
    if len(mean_curve) == 0 or len(std_curve) == 0:
        return 0.0, 0.0
    std = float(np.mean(std_curve))
    level = float(np.mean(mean_curve))
    return std, (std / level if level > 0 else 0.0)


def percentile_centroids(curves: np.ndarray, k: int) -> np.ndarray:
    """Initial centroids: the curves at evenly spaced percentiles of the daily-energy distribution."""
    totals = curves.sum(axis=1)
    order = np.argsort(totals, kind="stable")
    ranks = np.floor((2 * np.arange(k) + 1) / (2 * k) * len(curves)).astype(int)
    return curves[order[np.clip(ranks, 0, len(curves) - 1)]].astype(np.float64)


def _kmedians(curves: np.ndarray, init: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centroids = init.copy()
    labels = np.full(len(curves), -1)
    for _ in range(_MAX_ITER):
        distances = np.abs(curves[:, None, :] - centroids[None, :, :]).sum(axis=2)
        new_labels = distances.argmin(axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        for j in range(len(centroids)):
            members = curves[labels == j]
            if len(members):
                centroids[j] = np.median(members, axis=0)
    return labels, centroids


def cluster_curves(curves: np.ndarray, k: int, metric: Metric = "euclidean") -> Clustering:
    """Group daily curves (one per row) into ``k`` clusters."""
    curves = np.asarray(curves, dtype=np.float64)
    if curves.ndim != 2 or len(curves) == 0:
        raise ValueError("Clustering needs a non-empty matrix with one daily curve per row.")
    if not 1 <= k <= len(curves):
        raise ValueError(f"Cannot make {k} clusters out of {len(curves)} curves; choose 1 <= k <= {len(curves)}.")
    if np.isnan(curves).any():
        raise ValueError("Curves contain missing values; clean or drop those days before clustering.")
    init = percentile_centroids(curves, k)
    if metric == "euclidean":
        # Imported here: scikit-learn takes seconds to load, and the API imports this module only for
        # ``cluster_spread``.
        from sklearn.cluster import KMeans

        model = KMeans(n_clusters=k, init=init, n_init=1, max_iter=_MAX_ITER).fit(curves)
        labels, centroids = model.labels_.astype(int), model.cluster_centers_
    elif metric == "l1":
        labels, centroids = _kmedians(curves, init)
    else:
        raise ValueError(f"Unknown metric {metric!r}; use 'euclidean' or 'l1'.")
    slots = curves.shape[1]
    mean = np.zeros((k, slots))
    std = np.zeros((k, slots))
    cv = np.zeros(k)
    sizes = np.bincount(labels, minlength=k)
    for j in range(k):
        members = curves[labels == j]
        if len(members):
            mean[j] = members.mean(axis=0)
            std[j] = members.std(axis=0)
            cv[j] = cluster_spread(mean[j], std[j])[1]
    return Clustering(
        labels=labels, centroids=np.asarray(centroids), mean_curves=mean, std_curves=std, cv=cv, sizes=sizes
    )
