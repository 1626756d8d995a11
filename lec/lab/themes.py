"""The themes of what members write (the community's voice, report §5.4): the most frequent keywords of a set of
texts, in Italian and English, with the stop words (articles, prepositions, pronouns, common verbs) removed, and the
sentiment's evaluative words removed too (they are the tone, not the topic). Pure rules: the voice service counts
them over the feedback and the external voices, and shows a keyword only when at least k texts use it (a word
that rare could point at its author).

A keyword is a word of at least 3 letters, lower case, counted once per text; no stemming ("bollette" and
"bolletta" stay apart), so what the admin reads is a real word.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from lec.lab import sentiment

MIN_LENGTH = 3

_STOP_TEXT = """
    il lo la i gli le un uno una di del dello della dei degli delle da dal dallo dalla dai dagli dalle in nel nello
    nella nei negli nelle con col su sul sullo sulla sui sugli sulle per tra fra a al allo alla ai agli alle e ed o
    od ma però anche che chi cui non più meno molto poco tanto troppo tutto tutti tutta tutte questo questa questi
    queste quello quella quelli quelle quel sono sei è siamo siete era erano stato stata stati state essere ho hai
    ha abbiamo avete hanno avere aveva fatto fare fa mi ti si ci vi ne lo io tu lui lei noi voi loro mio mia miei mie
    tuo tua suo sua nostro nostra nostri nostre vostro vostra come quando dove perché perche cosa così cosi già ancora
    sempre mai solo ogni altro altra altri altre qui qua lì là se poi dopo prima oggi ieri domani ora adesso allora
    quindi quanto quanti uno due tre del nessuno niente nulla sia stesso stessa volta volte essere può possono
    puoi devo deve devono vorrei voglio bisogna c'è via anni anno giorno giorni
    nuovo nuova nuovi nuove new
    the a an of and or but if then than to in on at by for with from into about as is are was were be been being
    am have has had having do does did done doing not no nor so too very can could will would shall should may might
    must it its this that these those there here i me my mine we us our ours you your yours he him his she her hers
    they them their what which who whom whose when where why how all any both each few more most other some such
    only own same just also again ever never always still yet now today yesterday tomorrow up down out over under
    off once one two three get got make made let lets i'm it's don't doesn't didn't isn't wasn't can't won't
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_WORD = re.compile(r"[a-zàáèéìíòóùú]+", re.IGNORECASE)


def keywords(text: str) -> set[str]:
    """The distinct keywords of one text: neither stop words nor words the sentiment lexicon scores, nor
    negations/intensifiers, nor shorter than MIN_LENGTH letters."""
    lex = sentiment.lexicons()
    out: set[str] = set()
    for raw in _WORD.findall((text or "").lower()):
        word = raw
        if len(word) < MIN_LENGTH or word in STOP_WORDS:
            continue
        if any(
            word in group
            for groups in (sentiment.NEGATIONS, sentiment.INTENSIFIERS, sentiment.DIMINISHERS)
            for group in groups.values()
        ):
            continue
        if lex["it"].score(word) is not None or lex["en"].score(word) is not None:
            continue
        out.add(word)
    return out


def top_themes(texts: Iterable[str], limit: int = 10, min_texts: int = 1) -> list[tuple[str, int]]:
    """The `limit` keywords used by the most texts (each text counts a word once), at least `min_texts` texts
    each; ties broken alphabetically so the answer is stable."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(keywords(text))
    ranked = sorted(((w, n) for w, n in counts.items() if n >= min_texts), key=lambda wn: (-wn[1], wn[0]))
    return ranked[:limit]


def period_of(when: datetime, by: str) -> str:
    """The period a moment falls in: "2026-11" by month, "2026-W48" by ISO week."""
    if by == "week":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{when.year}-{when.month:02d}"
