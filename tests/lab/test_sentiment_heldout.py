"""The shipped sentiment lexicon's accuracy on a held-out labelled set (tests/lab/data/sentiment_heldout_*.tsv):
≥ 100 texts per language, written after the lexicon and never used to change it, beside the trivial baseline that
always answers the most frequent label. Run with `-s` to see the figures (docs/living-lab.md quotes them)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from lec.lab.sentiment import analyse
from tests.lab.test_sentiment import ENGLISH, ITALIAN

DATA = Path(__file__).with_name("data")
MARGIN = 0.25  # the scorer must beat the majority baseline by 25 points of accuracy


def heldout(language: str) -> list[tuple[str, str]]:
    rows = []
    for line in (DATA / f"sentiment_heldout_{language}.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((text, label))
    return rows


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_heldout_set_is_large_balanced_enough_and_disjoint_from_the_examples(language):
    rows = heldout(language)
    labels = Counter(label for _, label in rows)
    assert len(rows) >= 100 and set(labels) == {"positive", "negative", "neutral"}
    assert len({t for t, _ in rows}) == len(rows)  # no duplicate text
    examples = {t.lower() for t, _ in ITALIAN + ENGLISH}
    assert not examples & {t.lower() for t, _ in rows}


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_scorer_beats_the_majority_baseline_on_the_heldout_set(language):
    rows = heldout(language)
    labels = Counter(label for _, label in rows)
    baseline = labels.most_common(1)[0][1] / len(rows)
    accuracy = sum(analyse(text, language).label == label for text, label in rows) / len(rows)
    guessed = sum(analyse(text).label == label for text, label in rows) / len(rows)  # language guessed too
    print(
        f"\n{language}: {len(rows)} texts, accuracy {accuracy:.3f} (language guessed {guessed:.3f}), "
        f"majority baseline {baseline:.3f}"
    )
    assert accuracy >= baseline + MARGIN, (accuracy, baseline)
    assert guessed >= baseline + MARGIN, (guessed, baseline)
