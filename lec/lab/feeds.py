"""External voices (the report's ECListener, §5.4, which followed Twitter and newspapers): posts and articles from
RSS/Atom feeds, parsed with `feedparser`, kept when they mention one of the community's keywords, and scored with
the same sentiment lexicon as the members' feedback. No social-network API is reachable from here: a feed is any
RSS/Atom URL (fetched with a timeout and a size cap, http/https only) or, for the operator's CLI, a file.

Pure parsing and matching here; the voice service stores what matched (once per entry) and shows it to the admin.
"""

from __future__ import annotations

import calendar
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urlsplit

import feedparser
import requests

from lec.lab import sentiment

MAX_BYTES = 2_000_000
TIMEOUT_SECONDS = 10.0
_TAG = re.compile(r"<[^>]+>")


class FeedError(ValueError):
    """The feed could not be read; the sentence says why, for the admin."""


@dataclass(frozen=True)
class Post:
    guid: str
    title: str
    text: str
    link: str
    published: datetime | None
    source: str


@dataclass(frozen=True)
class Voice:
    post: Post
    keywords: tuple[str, ...]
    sentiment: sentiment.Sentiment


def _plain(html: str) -> str:
    return " ".join(unescape(_TAG.sub(" ", html or "")).split())


def parse(content: bytes | str, source: str = "") -> list[Post]:
    """The entries of an RSS or Atom document. A document that is not a feed at all is a FeedError; a feed with a
    recoverable glitch (feedparser's "bozo") is still read."""
    parsed = feedparser.parse(content)
    if not parsed.entries and parsed.get("bozo") and not parsed.get("feed"):
        raise FeedError("This is not an RSS or Atom feed.")
    title = _plain(parsed.feed.get("title", "")) or source
    posts = []
    for entry in parsed.entries:
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else None
        text = _plain(entry.get("summary", "") or entry.get("description", ""))
        link = entry.get("link", "")
        heading = _plain(entry.get("title", ""))
        guid = entry.get("id") or link or f"{heading}|{published}"
        posts.append(Post(str(guid)[:512], heading[:300], text[:4000], str(link)[:1000], published, title[:200]))
    return posts


def _public(host: str) -> bool:
    """True when every address the host name resolves to is a public one (not loopback, private, link-local…)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError) as exc:
        raise FeedError("The feed's address does not resolve.") from exc
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in infos)


def fetch(url: str, timeout: float = TIMEOUT_SECONDS, allow_private: bool = False) -> bytes:
    """The bytes of a feed at an http(s) URL, at most MAX_BYTES. Unless `allow_private` (tests, a local demo), the
    host must resolve to public addresses only and redirects are not followed, so an admin's feed cannot make the
    server read its own network (Keycloak's admin API, the database…)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise FeedError("This is not a web address.") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise FeedError("A feed address starts with http:// or https://.")
    if not allow_private and not _public(host):
        raise FeedError("The feed's address is on a private or local network: only public feeds are read.")
    try:
        with requests.get(
            url, timeout=timeout, stream=True, allow_redirects=False, headers={"User-Agent": "lec-living-lab"}
        ) as reply:
            if reply.is_redirect:
                raise FeedError(
                    f"The feed has moved to {reply.headers.get('Location', 'another address')}: follow that one."
                )
            if reply.status_code != 200:
                raise FeedError(f"The feed answered {reply.status_code}.")
            data = b""
            for chunk in reply.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise FeedError("The feed is larger than 2 MB.")
            return data
    except requests.RequestException as exc:
        raise FeedError("The feed could not be reached.") from exc


def _pattern(keyword: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(keyword.strip().lower())}(?![\w])", re.IGNORECASE)


def mentions(post: Post, keywords: Iterable[str]) -> tuple[str, ...]:
    """The keywords (whole words or phrases, any case) the post's title or text mentions."""
    haystack = f"{post.title}\n{post.text}"
    return tuple(k for k in keywords if k.strip() and _pattern(k).search(haystack))


def voices(posts: Iterable[Post], keywords: Iterable[str]) -> list[Voice]:
    """The posts that mention a keyword, each scored for sentiment (title and text together)."""
    words = [k.strip() for k in keywords if k.strip()]
    out = []
    for post in posts:
        found = mentions(post, words)
        if found:
            out.append(Voice(post, found, sentiment.analyse(f"{post.title}. {post.text}")))
    return out
