"""The sentiment of what members write (the community's voice, report §5.4): a lexicon scorer for Italian and
English with negation and intensifiers, shipped with the repo (no model downloaded, no offline Italian package on
PyPI to lean on).

How a text is scored:
1. the language is the one whose common words (articles, prepositions…) appear more often (ties: the one whose
   lexicon knows more of the words, then Italian);
2. the text is split into words at letters (accents kept) and into clauses at punctuation;
3. each word found in that language's lexicon (`sentiment_lexicon.tsv`, exact words first, then `prefix*` entries,
   longest prefix first) adds its score (-3…+3);
4. an intensifier before it ("molto", "very"…) multiplies it by 1.5, a diminisher ("abbastanza", "slightly") by
   0.5, and "poco" / "hardly" by -0.5 ("poco chiaro" is unclear);
5. a negation ("non", "mai", "senza", "not", "never", "n't", "no"…) flips the sign of the scored words that follow
   it in the same clause, up to three words on;
6. the sum s is squashed into -1…+1 as s / sqrt(s² + 15) (VADER's normalisation), and labelled positive above 0.05,
   negative below -0.05, neutral in between (also a text with no scored word).

It is a transparent baseline, not a model: irony, sarcasm and domain words missing from the lexicon are missed.
Its accuracy on the labelled examples is measured in tests/lab/test_sentiment.py.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LEXICON_FILE = Path(__file__).with_name("sentiment_lexicon.tsv")
THRESHOLD = 0.05
ALPHA = 15.0
NEGATION_SCOPE = 3

NEGATIONS = {
    "it": frozenset(
        {"non", "mai", "senza", "né", "nessun", "nessuno", "nessuna", "niente", "nulla", "neanche", "nemmeno"}
    ),
    "en": frozenset({"not", "no", "never", "without", "nothing", "nobody", "neither", "nor", "cannot"}),
}
FLIPPERS = frozenset({"poco", "hardly", "barely"})  # "poco chiaro", "hardly useful": half the word, reversed
INTENSIFIERS = {
    "it": frozenset({"molto", "davvero", "veramente", "proprio", "super", "estremamente", "tanto", "assai"}),
    "en": frozenset({"very", "really", "so", "extremely", "super", "truly", "absolutely", "totally"}),
}
DIMINISHERS = {
    "it": frozenset({"abbastanza", "piuttosto", "leggermente"}),
    "en": frozenset({"somewhat", "slightly", "bit", "fairly", "quite"}),
}
COMMON = {
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "i",
            "gli",
            "le",
            "un",
            "una",
            "di",
            "del",
            "della",
            "dei",
            "delle",
            "che",
            "e",
            "è",
            "per",
            "con",
            "non",
            "sono",
            "ma",
            "più",
            "molto",
            "anche",
            "questo",
            "questa",
            "nel",
            "nella",
            "al",
            "alla",
            "ho",
            "ha",
            "abbiamo",
            "siamo",
            "era",
            "stato",
            "stata",
            "come",
            "perché",
        ]
    ),
    "en": frozenset(
        [
            "the",
            "a",
            "an",
            "of",
            "and",
            "is",
            "are",
            "was",
            "were",
            "to",
            "in",
            "it",
            "this",
            "that",
            "for",
            "with",
            "not",
            "but",
            "very",
            "have",
            "has",
            "we",
            "our",
            "be",
            "been",
            "they",
            "i",
            "you",
            "on",
            "at",
            "as",
            "my",
        ]
    ),
}
_WORD = re.compile(r"[a-zàáèéìíòóùú]+(?:'[a-z]+)?", re.IGNORECASE)
_CLAUSE = re.compile(r"[.!?;:,\n]+|\bma\b|\bbut\b|\bperò\b|\bhowever\b", re.IGNORECASE)


@dataclass(frozen=True)
class Sentiment:
    score: float  # -1 … +1
    label: str  # positive | neutral | negative
    language: str  # it | en
    matched: int  # words of the lexicon found


@dataclass(frozen=True)
class Lexicon:
    exact: dict[str, float]
    prefixes: tuple[tuple[str, float], ...]  # longest first

    def score(self, word: str) -> float | None:
        if word in self.exact:
            return self.exact[word]
        for prefix, value in self.prefixes:
            if word.startswith(prefix):
                return value
        return None


@cache
def lexicons(path: Path = LEXICON_FILE) -> dict[str, Lexicon]:
    """The lexicon file, parsed per language. A malformed line is an error naming it (the file is ours)."""
    exact: dict[str, dict[str, float]] = {"it": {}, "en": {}}
    prefixes: dict[str, list[tuple[str, float]]] = {"it": [], "en": []}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in exact:
            raise ValueError(f"{path.name} line {number}: expected 'it|en<TAB>word<TAB>score', got {line!r}")
        language, word, value = parts[0], parts[1].strip().lower(), float(parts[2])
        if not -3 <= value <= 3:
            raise ValueError(f"{path.name} line {number}: a score runs from -3 to 3, got {value}")
        if word.endswith("*"):
            prefixes[language].append((word[:-1], value))
        else:
            exact[language][word] = value
    return {lang: Lexicon(exact[lang], tuple(sorted(prefixes[lang], key=lambda p: -len(p[0])))) for lang in exact}


def language_of(words: list[str]) -> str:
    """The language with more common words in the text; on a tie, the one whose lexicon knows more of its words;
    on a tie again, Italian."""
    it = sum(w in COMMON["it"] for w in words)
    en = sum(w in COMMON["en"] for w in words)
    if it == en:
        lex = lexicons()
        it = sum(lex["it"].score(w) is not None for w in words)
        en = sum(lex["en"].score(w) is not None for w in words)
    return "en" if en > it else "it"


def _words(clause: str) -> list[str]:
    out: list[str] = []
    for w in _WORD.findall(clause.lower()):
        if w.endswith("n't"):  # don't, isn't, wasn't → a negation
            out += [w[:-3], "not"]
        elif "'" in w:  # l'app, dell'assemblea → the word after the apostrophe
            out.append(w.split("'", 1)[1])
        else:
            out.append(w)
    return out


def analyse(text: str, language: str | None = None) -> Sentiment:
    """The sentiment of one text; `language` forces the lexicon ("it" or "en"), else it is guessed."""
    clauses = [_words(c) for c in _CLAUSE.split(text or "") if c and c.strip()]
    lang = language or language_of([w for c in clauses for w in c])
    lexicon = lexicons()[lang]
    total, matched = 0.0, 0
    for words in clauses:
        negated_until = -1
        for i, word in enumerate(words):
            if word in NEGATIONS[lang]:
                negated_until = i + NEGATION_SCOPE
                continue
            value = lexicon.score(word)
            if value is None:
                continue
            matched += 1
            before = words[i - 1] if i else ""
            if before in INTENSIFIERS[lang]:
                value *= 1.5
            elif before in DIMINISHERS[lang]:
                value *= 0.5
            elif before in FLIPPERS:
                value *= -0.5
            if i <= negated_until:
                value = -value
            total += value
    score = total / math.sqrt(total * total + ALPHA) if total else 0.0
    label = "positive" if score > THRESHOLD else "negative" if score < -THRESHOLD else "neutral"
    return Sentiment(round(score, 4), label, lang, matched)
