"""The shipped sentiment lexicon (lec/lab/sentiment.py): negation, intensifiers, language guess, and its accuracy
on labelled examples written for this project, beside the majority-class baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from lec.lab import sentiment
from lec.lab.sentiment import analyse

# (text, expected label) — feedback as neighbours write it; labelled by hand.
ITALIAN = [
    ("Il progetto dell'orto è ottimo, grazie a tutti!", "positive"),
    ("Bellissima assemblea, molto chiara", "positive"),
    ("L'app è semplice e veloce", "positive"),
    ("Finalmente risparmiamo sulla bolletta", "positive"),
    ("Sono contenta di partecipare", "positive"),
    ("Non è male come iniziativa", "positive"),
    ("Niente male il nuovo calendario", "positive"),
    ("Il referente è gentile e disponibile", "positive"),
    ("Servizio affidabile e trasparente", "positive"),
    ("Una comunità accogliente, consiglio a tutti di entrare", "positive"),
    ("Ottima idea la bici condivisa", "positive"),
    ("Mi piace molto il nuovo quartiere", "positive"),
    ("L'app non funziona", "negative"),
    ("La bolletta è carissima e poco chiara", "negative"),
    ("Pessimo servizio, nessuno risponde", "negative"),
    ("Non sono soddisfatto del progetto", "negative"),
    ("Il sito è lento e complicato", "negative"),
    ("Che delusione questa riunione", "negative"),
    ("Il pannello è rotto da settimane", "negative"),
    ("Un disastro, inaccettabile", "negative"),
    ("Non è affatto utile", "negative"),
    ("Mai vista una cosa così confusa", "negative"),
    ("Il contatore è guasto e nessuno lo ripara", "negative"),
    ("Orari sbagliati e ritardi continui", "negative"),
    ("La riunione è giovedì alle 18", "neutral"),
    ("Ho letto la newsletter", "neutral"),
    ("Quando parte il progetto?", "neutral"),
    ("Abito in via Roma", "neutral"),
]
ENGLISH = [
    ("The shared garden is great, thanks everyone!", "positive"),
    ("Very helpful meeting", "positive"),
    ("The app is simple and fast", "positive"),
    ("We are saving on our bills", "positive"),
    ("I'm happy to take part", "positive"),
    ("Not bad at all", "positive"),
    ("No problems so far", "positive"),
    ("Friendly and reliable people", "positive"),
    ("I would recommend it to my neighbours", "positive"),
    ("I love the new cargo bike", "positive"),
    ("The app doesn't work", "negative"),
    ("The bill is expensive and confusing", "negative"),
    ("Terrible service, nobody answers", "negative"),
    ("I am not satisfied with the project", "negative"),
    ("The website is slow and complicated", "negative"),
    ("What a disappointing meeting", "negative"),
    ("The panel has been broken for weeks", "negative"),
    ("It is not useful", "negative"),
    ("Hardly useful for us", "negative"),
    ("A waste of time", "negative"),
    ("The meeting is on Thursday at 6 pm", "neutral"),
    ("I read the newsletter", "neutral"),
    ("When does the project start?", "neutral"),
]


def _accuracy(examples: list[tuple[str, str]], language: str) -> tuple[float, float]:
    right = sum(analyse(text, language).label == label for text, label in examples)
    labels = [label for _, label in examples]
    majority = max(set(labels), key=labels.count)
    return right / len(examples), labels.count(majority) / len(examples)


@pytest.mark.parametrize(("examples", "language"), [(ITALIAN, "it"), (ENGLISH, "en")])
def test_accuracy_on_the_labelled_examples_beats_the_majority_baseline(examples, language):
    accuracy, baseline = _accuracy(examples, language)
    assert accuracy >= 0.85, [(t, analyse(t, language)) for t, lab in examples if analyse(t, language).label != lab]
    assert accuracy > baseline + 0.4


@pytest.mark.parametrize(
    ("plain", "negated", "language"),
    [
        ("L'app funziona", "L'app non funziona", "it"),
        ("È utile", "Non è per niente utile", "it"),
        ("Il servizio è male organizzato", "Il servizio non è male", "it"),
        ("It is useful", "It is not useful", "en"),
        ("I like it", "I don't like it", "en"),
        ("There are problems", "There are no problems", "en"),
    ],
)
def test_negation_flips_the_sign(plain, negated, language):
    a, b = analyse(plain, language), analyse(negated, language)
    assert a.score != 0 and b.score != 0 and (a.score > 0) != (b.score > 0), (a, b)


def test_negation_stops_at_the_clause_and_after_three_words():
    assert analyse("Non lo so, ma l'orto è bello", "it").label == "positive"
    assert analyse("I did not go, the garden is nice", "en").label == "positive"
    assert analyse("non ci sono mai stato qui però bello", "it").label == "positive"


def test_intensifiers_and_diminishers_scale_the_word():
    base, strong = analyse("utile", "it").score, analyse("molto utile", "it").score
    slight = analyse("abbastanza utile", "it").score
    assert 0 < slight < base < strong
    assert analyse("poco chiaro", "it").label == "negative"


def test_the_language_is_guessed_from_common_words():
    assert analyse("Il servizio della comunità è ottimo").language == "it"
    assert analyse("The service of the community is great").language == "en"
    assert analyse("").label == "neutral" and analyse("").score == 0


def test_scores_stay_between_minus_one_and_one():
    assert analyse("ottimo " * 200, "it").score <= 1
    assert analyse("pessimo " * 200, "it").score >= -1


def test_a_malformed_lexicon_line_is_named(tmp_path: Path):
    bad = tmp_path / "lexicon.tsv"
    bad.write_text("# header\nit\tbello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        sentiment.lexicons(bad)
    bad.write_text("it\tbello\t7\n", encoding="utf-8")
    with pytest.raises(ValueError, match="-3 to 3"):
        sentiment.lexicons(bad)


def test_the_shipped_lexicon_has_both_languages_and_both_signs():
    lex = sentiment.lexicons()
    for language in ("it", "en"):
        values = list(lex[language].exact.values()) + [v for _, v in lex[language].prefixes]
        assert sum(v > 0 for v in values) >= 40 and sum(v < 0 for v in values) >= 40


def test_with_the_language_guessed_the_examples_score_as_well():
    examples = ITALIAN + ENGLISH
    right = sum(analyse(text).label == label for text, label in examples)
    assert right / len(examples) >= 0.9
