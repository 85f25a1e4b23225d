"""Articles in scripts written without spaces between words (Chinese, Japanese, Thai, Lao,
Myanmar, Khmer): found as articles, diffed word by word rather than clause by clause, and
searchable by any word of them.

The pages are built here: the corpus has no article in these scripts. The Thai, Chinese and
Burmese sentences are ordinary news prose (a flood, a storm) written for these tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from newsdiff import pages, search
from newsdiff.diff import diff_versions, diff_words
from newsdiff.search import SearchIndex
from newsdiff.text import word_count

THAI = [
    "กรุงเทพมหานครเปิดเผยว่าฝนที่ตกหนักตลอดคืนที่ผ่านมาทำให้เกิดน้ำท่วมขังในหลายพื้นที่ "
    "โดยเฉพาะย่านลาดพร้าวและบางเขน ซึ่งระดับน้ำสูงกว่าสามสิบเซนติเมตร",
    "เจ้าหน้าที่สำนักการระบายน้ำได้นำเครื่องสูบน้ำเคลื่อนที่จำนวนมากเข้าไปเร่งระบายน้ำตั้งแต่ช่วงเช้ามืด "
    "และคาดว่าสถานการณ์จะกลับสู่ภาวะปกติภายในช่วงบ่ายของวันนี้",
]
BURMESE = [
    "ရန်ကုန်မြို့တွင် ယမန်နေ့ညက မိုးသည်းထန်စွာ ရွာသွန်းခဲ့သဖြင့် လမ်းများစွာ ရေလွှမ်းမိုးခဲ့သည်။",
    "မြို့တော်စည်ပင်သာယာရေးအဖွဲ့က ရေစုပ်စက်များကို အသုံးပြု၍ ရေများကို ထုတ်ယူနေကြောင်း ပြောကြားသည်။",
]
CHINESE = [
    "昨天晚上强台风登陆东南沿海，造成多个城市停电，数万居民被紧急转移到安全地带。",
    "气象部门表示，台风将在未来两天继续向西北方向移动，并带来持续的强降雨。",
]


def page(paragraphs: list[str], lang: str, title: str) -> bytes:
    """An article page as a small news site's template makes it: a header menu, the story in
    an <article>, a footer; og:type article and a publication time."""
    story = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{title} | Example</title><meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2024-09-01T08:00:00+07:00"></head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
</header><main><article><h1>{title}</h1>{story}</article></main>
<footer><p>Example News</p></footer></body></html>""".encode()


# --- extraction ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraphs", "lang", "title"),
    [
        (THAI, "th", "น้ำท่วมกรุงเทพฯ หลังฝนตกหนักทั้งคืน"),
        (BURMESE, "my", "ရန်ကုန်မြို့ ရေလွှမ်းမိုး"),
        (CHINESE, "zh", "台风登陆东南沿海"),
    ],
)
def test_a_short_article_without_spaces_between_words_is_an_article(paragraphs, lang, title):
    # Two paragraphs of about 30 words each: a short article in any language. Counted by the
    # spaces in them, the Thai and Burmese ones were 10 words and called "not an article".
    extraction = pages.extract(page(paragraphs, lang, title), "https://example.com/a/1", None)
    assert extraction.title == title
    assert extraction.body == paragraphs


@pytest.mark.parametrize("shown", ["台风登陆东南沿海｜新浪新闻", "新浪新闻 ｜ 台风登陆东南沿海"])
def test_a_full_width_bar_separates_the_site_from_the_headline(shown):
    # Japanese and Chinese sites put a full-width bar (U+FF5C) where others put "|".
    html = (
        page(CHINESE, "zh", "x")
        .replace(b"<h1>x</h1>", b"")
        .replace(b"<title>x | Example</title>", f"<title>{shown}</title>".encode())
    )
    html = html.replace(b'<meta property="og:title" content="x">', b"")
    html = html.replace(
        b"<head>", '<head><meta property="og:site_name" content="新浪新闻">'.encode()
    )
    extraction = pages.extract(html, "https://news.example.cn/c/2024/a.html", None)
    assert extraction.title == "台风登陆东南沿海"


def test_word_count_reads_scripts_without_spaces():
    assert word_count("The storm hit the coast — again.") == 7  # space-separated, as before
    assert word_count("台风登陆东南沿海") == 8  # a Han character is about a word
    assert word_count("ฝนตกหนักในกรุงเทพ") == 5  # 17 code points, a Thai word about four
    assert 20 <= word_count(THAI[0]) <= 45  # the paragraph says in 28 English words


# --- diffs --------------------------------------------------------------------------------------


def test_a_changed_chinese_word_is_highlighted_alone():
    old, new = diff_words(CHINESE[0], CHINESE[0].replace("数万", "十多万"))
    assert [s.text for s in old if s.op == "delete"] == ["数"]
    assert [s.text for s in new if s.op == "insert"] == ["十多"]
    assert "".join(s.text for s in new) == CHINESE[0].replace("数万", "十多万")


def test_a_changed_thai_word_is_one_change_with_its_marks():
    # "heavy" (หนัก) became "light" (เล็กน้อย): one word, not the whole clause, and no change
    # starting or ending inside a letter's vowel sign or tone mark.
    old, new = diff_words("ฝนตกหนักในกรุงเทพ", "ฝนตกเล็กน้อยในกรุงเทพ")
    assert [s.text for s in old if s.op == "delete"] == ["หนัก"]
    assert [s.text for s in new if s.op == "insert"] == ["เล็กน้อย"]


def test_words_added_and_removed_count_words_not_clauses():
    base = {"title": "台风", "byline": [], "corrections": [], "url": "https://example.com/a"}
    diff = diff_versions(
        {**base, "number": 0, "body": [CHINESE[0]]},
        {**base, "number": 1, "body": [CHINESE[0].replace("数万", "十多万")]},
    )
    body = diff.fields["body"]
    assert (body.words_added, body.words_removed) == (2, 1)


# --- search -------------------------------------------------------------------------------------


def version(text: list[str], number: int, article_id: ObjectId, title: str) -> dict:
    return {
        "article_id": article_id,
        "number": number,
        "outlet": "example",
        "label": "first" if number == 0 else "change",
        "url": "https://example.com/news/typhoon",
        "fetched_at": datetime(2026, 11, 30, tzinfo=UTC) + timedelta(hours=number),
        "title": title,
        "byline": [],
        "body": text,
        "corrections": [],
    }


def test_any_word_of_a_text_without_spaces_is_found(tmp_path):
    index = SearchIndex(tmp_path / "index")
    chinese, thai = ObjectId(), ObjectId()
    v0 = version(CHINESE, 0, chinese, "台风登陆东南沿海")
    v1 = version([CHINESE[0].replace("数万", "十多万"), CHINESE[1]], 1, chinese, v0["title"])
    index.add([(v0, None), (v1, v0), (version(THAI, 0, thai, "น้ำท่วมกรุงเทพฯ"), None)])

    def found(q: str, **kw) -> list[tuple[str, int]]:
        return [(h.article_id, h.number) for h in index.search(q, **kw).hits]

    assert found("停电") == [(str(chinese), 1)]  # a word in the middle of a clause
    assert found("title:东南") == [(str(chinese), 1)]
    assert found("居民 -台风") == []
    assert found("สถานการณ์") == [(str(thai), 0)]  # "situation", inside a Thai phrase
    assert found("ลาดพร้าว") == [(str(thai), 0)]
    assert found("停電") == []  # a different character is a different word
    # The edit "数万" -> "十多万" (tens of thousands -> over a hundred thousand) added "十多"
    # and removed "数", as the diff shows it.
    assert found("added:十多") == [(str(chinese), 1)]
    assert found("removed:数") == [(str(chinese), 1)]
    assert found("added:数") == []
    change = index.search("added:十多").hits[0]
    assert "".join(text for text, _ in change.snippets["added"]) == "十多"  # not "十 多"
    hit = index.search("停电").hits[0]
    marked = "".join(text for text, highlighted in hit.snippets["body"] if highlighted)
    assert marked == "停电"
    # "方向" (direction): the 向 of "继续向西北" (on towards the north-west) is another word
    hit = index.search("方向").hits[0]
    assert [text for text, highlighted in hit.snippets["body"] if highlighted] == ["方向"]
    assert "继续向西北" in "".join(text for text, _ in hit.snippets["body"])


def test_an_index_of_an_older_release_is_rebuilt_not_mixed(tmp_path, store):
    """An index built before this format cut Chinese into whole clauses: adding to it would
    find words in new versions only. A crawl does not write to it (its versions are stored and
    counted as not indexed); `scrapy index` rebuilds it from the store."""
    root = tmp_path / "index"
    index = SearchIndex(root)
    aid = ObjectId()
    index.add([(version(CHINESE, 0, aid, "台风"), None)])
    gen = (root / "CURRENT").read_text().strip()
    state = json.loads((root / gen / "state.json").read_text())
    del state["format"]  # as an index written by the release before
    (root / gen / "state.json").write_text(json.dumps(state))
    with pytest.raises(search.IndexOutdated, match="scrapy index"):
        index.add([(version(CHINESE, 1, aid, "台风"), None)])
    stored = version(CHINESE, 0, ObjectId(), "台风")
    store.articles.insert_one({"_id": stored["article_id"], "url": stored["url"]})
    store.versions.insert_one(stored)
    assert search.catch_up(store, index) == 1  # a rebuild, whatever the high-water mark
    assert index.current_format()
    assert len(index.search("停电").hits) == 1
