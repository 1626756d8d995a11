"""External voices without Keycloak: RSS and Atom feeds (files in tests/lab/data and the same files served on a
loopback HTTP server) parsed with feedparser, only the entries that mention the community's keywords kept, each
once however often the feed is read, scored for sentiment and summarised for the admin's dashboard; bad feeds get a
sentence, and `lec lab feeds` reads them from cron or a file."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from dapp.api.deps import CommunityAccess
from dapp.api.lab_cli import lab as lab_command
from dapp.api.security import Principal
from dapp.api.services import lab_voice
from dapp.api.services.lab import LabError
from lec.db.models import Community, LabFeed, LabVoice, User
from lec.db.session import get_engine, init_db
from lec.lab import feeds
from lec.settings import Settings

DATA = Path(__file__).with_name("data")
KEYWORDS = ["San Salvario", "comunità energetica"]
LOCAL = Settings(lab_feeds_allow_private=True)  # the feed server of these tests is on loopback


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(DATA))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def db(tmp_path) -> Iterator[tuple[Session, CommunityAccess, CommunityAccess, str]]:
    url = f"sqlite:///{tmp_path / 'voices.db'}"
    engine = init_db(get_engine(url))
    with Session(engine) as s:
        lab, other = Community(name="Voices LEC"), Community(name="Other LEC")
        admin = User(external_id="sub-voices-admin", name="A", surname="B", email="a@example.org")
        s.add_all([lab, other, admin])
        s.commit()
        principal = Principal("sub-voices-admin", "a", frozenset({"community-admin"}), "lec-dapp")
        yield (
            s,
            CommunityAccess(lab, principal, admin, None, frozenset({"community-admin"})),
            CommunityAccess(other, principal, admin, None, frozenset({"community-admin"})),
            url,
        )


def test_rss_and_atom_entries_are_parsed_to_plain_text():
    rss = feeds.parse((DATA / "feed_news.rss").read_bytes())
    assert [p.guid for p in rss] == ["cronaca-1", "cronaca-2", "cronaca-3"]
    assert rss[0].source == "Cronaca di Quartiere" and "<b>" not in rss[0].text and "comunità energetica" in rss[0].text
    assert rss[0].published is not None and rss[0].published.isoformat() == "2026-11-02T08:00:00+00:00"
    atom = feeds.parse((DATA / "feed_blog.atom").read_bytes())
    assert [p.link for p in atom] == ["http://127.0.0.1/blog/1", "http://127.0.0.1/blog/2"]


def test_only_entries_that_mention_a_keyword_are_kept_and_scored():
    posts = feeds.parse((DATA / "feed_news.rss").read_bytes()) + feeds.parse((DATA / "feed_blog.atom").read_bytes())
    kept = {v.post.guid: v for v in feeds.voices(posts, KEYWORDS)}
    assert set(kept) == {"cronaca-1", "cronaca-2", "urn:test:blog:1"}
    assert kept["cronaca-1"].keywords == ("San Salvario", "comunità energetica")
    assert kept["cronaca-1"].sentiment.label == "positive" and kept["cronaca-2"].sentiment.label == "negative"
    assert kept["urn:test:blog:1"].sentiment.language == "en" and kept["urn:test:blog:1"].sentiment.label == "positive"
    # a keyword matches whole words only, in any case
    assert feeds.voices(posts, ["salva"]) == [] and len(feeds.voices(posts, ["SAN SALVARIO"])) == 3


def test_not_a_feed_and_bad_addresses_get_a_sentence(server: str):
    with pytest.raises(feeds.FeedError, match="not an RSS or Atom feed"):
        feeds.parse(b"\x00\x01 this is not xml at all <<<")
    with pytest.raises(feeds.FeedError, match="http:// or https://"):
        feeds.fetch("file:///etc/passwd")
    with pytest.raises(feeds.FeedError, match="not a web address"):
        feeds.fetch("http://[::1")
    with pytest.raises(feeds.FeedError, match="does not resolve"):
        feeds.fetch("http://no-such-host.invalid/feed.rss")
    with pytest.raises(feeds.FeedError, match="answered 404"):
        feeds.fetch(f"{server}/missing.rss", allow_private=True)


def test_a_followed_feed_is_read_over_http_once_per_entry(db, server: str):
    s, access, other, _ = db
    feed = lab_voice.add_feed(
        s, access, f"{server}/feed_news.rss", [" San  Salvario ", "san salvario", "comunità energetica"]
    )
    assert feed.keywords == "San Salvario,comunità energetica"  # cleaned, duplicates dropped
    assert lab_voice.fetch_feed(s, feed, LOCAL) == 2
    assert lab_voice.fetch_feed(s, feed, LOCAL) == 0  # read again: nothing new
    assert feed.title == "Cronaca di Quartiere" and feed.error is None and feed.fetched_at is not None
    voices = s.exec(select(LabVoice).where(LabVoice.community_id == access.community.id)).all()
    assert sorted(v.guid for v in voices) == ["cronaca-1", "cronaca-2"]
    # the same feed followed by another community is stored for it separately
    theirs = lab_voice.add_feed(s, other, f"{server}/feed_news.rss", ["San Salvario"])
    assert lab_voice.fetch_feed(s, theirs, LOCAL) == 2
    summary = lab_voice.external_summary(s, access)
    assert summary.count == 2 and summary.labels == {"positive": 1, "negative": 1}
    assert [p[0] for p in summary.trend] == ["2026-11"]
    assert [v.guid for v in summary.latest] == ["cronaca-2", "cronaca-1"]  # newest first
    assert all(w not in {"san", "salvario", "comunità", "energetica"} for w, _ in summary.themes)


def test_feed_rules_for_the_admin(db, server: str):
    s, access, other, _ = db
    with pytest.raises(LabError, match="at least one keyword"):
        lab_voice.add_feed(s, access, f"{server}/feed_news.rss", [" ", ","])
    with pytest.raises(LabError, match="http:// or https://"):
        lab_voice.add_feed(s, access, "file:///etc/passwd", ["x"])
    feed = lab_voice.add_feed(s, access, f"{server}/feed_news.rss", ["San Salvario"])
    with pytest.raises(LabError, match="already follows"):
        lab_voice.add_feed(s, access, f"{server}/feed_news.rss", ["x"])
    with pytest.raises(LabError, match="no feed") as missing:
        lab_voice.get_feed(s, other, feed.id)  # another community's feed is not found
    assert missing.value.status == 404
    broken = lab_voice.add_feed(s, access, f"{server}/missing.rss", ["x"])
    with pytest.raises(LabError, match="answered 404"):
        lab_voice.fetch_feed(s, broken, LOCAL)
    assert broken.error == "The feed answered 404."
    lab_voice.fetch_feed(s, feed, LOCAL)
    lab_voice.remove_feed(s, access, feed.id)  # the voices already read stay
    assert s.get(LabFeed, feed.id) is None
    assert len(s.exec(select(LabVoice).where(LabVoice.community_id == access.community.id)).all()) == 2


def test_lec_lab_feeds_reads_every_feed_or_a_file(db, server: str, monkeypatch):
    monkeypatch.setenv("LEC_LAB_FEEDS_ALLOW_PRIVATE", "true")
    s, access, _, url = db
    lab_voice.add_feed(s, access, f"{server}/feed_blog.atom", ["San Salvario"])
    runner = CliRunner()
    first = runner.invoke(lab_command, ["feeds", "--database-url", url])
    assert first.exit_code == 0 and "1 new voices kept" in first.output, first.output
    from_file = runner.invoke(
        lab_command,
        [
            "feeds",
            "--database-url",
            url,
            "--file",
            str(DATA / "feed_news.rss"),
            "--community",
            str(access.community.id),
            "--keywords",
            "San Salvario",
        ],
    )
    assert from_file.exit_code == 0 and "3 entries, 2 new voices kept" in from_file.output, from_file.output
    again = runner.invoke(
        lab_command,
        [
            "feeds",
            "--database-url",
            url,
            "--file",
            str(DATA / "feed_news.rss"),
            "--community",
            str(access.community.id),
            "--keywords",
            "San Salvario",
        ],
    )
    assert "0 new voices kept" in again.output
    missing = runner.invoke(lab_command, ["feeds", "--database-url", url, "--file", str(DATA / "feed_news.rss")])
    assert missing.exit_code != 0 and "--community" in missing.output


def test_by_default_a_feed_on_the_servers_own_network_is_not_read(db, server: str):
    s, access, _, _ = db
    for url in (f"{server}/feed_news.rss", "http://10.0.0.1/feed.rss", "http://169.254.169.254/latest/meta-data"):
        with pytest.raises(feeds.FeedError, match="private or local network"):
            feeds.fetch(url)
    feed = lab_voice.add_feed(s, access, f"{server}/feed_news.rss", ["San Salvario"])
    with pytest.raises(LabError, match="private or local network"):
        lab_voice.fetch_feed(s, feed, Settings())
    assert s.exec(select(LabVoice)).all() == []


def test_a_redirect_is_not_followed(tmp_path):
    import http.server
    import threading

    class Moved(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/secret")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Moved)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(feeds.FeedError, match="has moved to http://127.0.0.1:9/secret"):
            feeds.fetch(f"http://127.0.0.1:{httpd.server_address[1]}/feed.rss", allow_private=True)
    finally:
        httpd.shutdown()


def test_the_demos_feed_file_keeps_three_entries_and_its_keywords_words_are_no_theme(db):
    """The file `lec demo-lab` reads (no network): three of its four entries name a keyword; read without a feed
    (as `lec lab feeds --file` does), the words of the keywords still do not come back as themes."""
    from dapp.api.demo_lab import FEED_FILE, FEED_KEYWORDS

    s, access, _, _ = db
    posts = feeds.parse(FEED_FILE.read_bytes(), source=FEED_FILE.name)
    assert len(posts) == 4 and posts[0].source == "Cronaca del quartiere (demo)"
    assert lab_voice.store_voices(s, access.community.id, posts, FEED_KEYWORDS) == 3
    words = {w for w, _ in lab_voice.external_summary(s, access).themes}
    assert not words & {"demo", "lec", "comunità", "energetica", "lavatrici", "sole"}
    assert "residenti" in words  # a word two entries share that is not a keyword
