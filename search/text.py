"""Text handling for the index: normalisation, character bigrams, jieba words, highlighting.

Why bigrams as well as words: jieba cuts 明日停水通知 into 明日 / 停水 / 通知, but it cuts
阳光花园管理处 differently depending on its dictionary and the neighbouring characters, so a
search that matches only whole words misses terms it happened to cut another way. Every
substring of two or more Chinese characters is covered by the character bigrams of the text,
so the bigrams give a candidate set with no misses; checking the exact substring afterwards
removes the false candidates. jieba (with the administrators' dictionary) still decides how a
query is split into words when no exact match exists, and whole-word matches rank higher.

Normalisation is one character to one character (full-width forms to ASCII, ASCII to lower
case), so positions found in the normalised text are positions in the original: highlighting
needs that.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# A run of letters, digits and CJK characters: what tokens are made of.
WORD_RUN = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")
# What separates the terms of a query: white space and the usual list punctuation.
_TERM_SPLIT = re.compile(r"[\s,，、;；。!！?？\"“”'‘’()（）\[\]【】《》<>]+")

MAX_QUERY_CHARS = 100
MAX_TERMS = 8
MAX_BODY_CHARS = 50_000
STOPWORDS = frozenset("的了和与及或在是有吗呢啊吧请把被给之等中")

_NORMALISE = {full: chr(ascii_).lower() for ascii_, full in ((c, c + 0xFEE0) for c in range(0x21, 0x7F))}
_NORMALISE.update({c: chr(c).lower() for c in range(ord("A"), ord("Z") + 1)})
_NORMALISE[0x3000] = " "  # ideographic space
_NORMALISE_TABLE = str.maketrans(_NORMALISE)


def normalise(text: str) -> str:
    """Full-width ASCII to half-width, ASCII to lower case; the length never changes."""
    return (text or "").translate(_NORMALISE_TABLE)


def clean_text(text: str, limit: int = MAX_BODY_CHARS) -> str:
    """Collapse white space (indexed text is one line) and cap its length."""
    return _SPACES.sub(" ", text or "").strip()[:limit]


def _bigrams(run: str):
    return (run[i : i + 2] for i in range(len(run) - 1))


def grams(normalised: str) -> list[str]:
    """Index tokens of a normalised text: the bigrams of every run of letters, digits and
    characters (CJK and other scripts alike, so 05号 inside 第105号 is covered), no duplicates.

    A lone character gives no token: a one-character query cannot rely on tokens anyway
    (the character may sit inside a longer run), so it is found by the substring check alone.
    """
    seen: dict[str, None] = {}
    for match in WORD_RUN.finditer(normalised):
        for gram in _bigrams(match.group()):
            seen.setdefault(gram)
    return list(seen)


def term_tokens(term: str) -> list[str]:
    """The index tokens every document containing ``term`` must have: the bigrams of its runs.

    Any text containing the term contains each of its runs inside one of its own runs, hence
    every bigram; the exact substring check then removes the false candidates.
    """
    tokens: dict[str, None] = {}
    for match in WORD_RUN.finditer(term):
        for gram in _bigrams(match.group()):
            tokens.setdefault(gram)
    return list(tokens)


# ---------------------------------------------------------------------------------------------
# jieba: one tokenizer per process, with the administrators' dictionary applied.

jieba_logger = logging.getLogger("jieba")


class Segmenter:
    """jieba's dictionary loaded once per process; the company dictionary kept in step with
    the ``SearchTerm`` table through a version number (one small query per ``sync()``)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokenizer = None
        self._applied: dict[str, int | None] = {}
        self._version: int | None = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.initialize()
                    self._tokenizer = tokenizer
        return self._tokenizer

    def sync(self, *, force: bool = False) -> int:
        """Apply added, changed and removed company terms; returns the dictionary version."""
        from .models import DictionaryState, SearchTerm

        version = DictionaryState.current()
        if not force and version == self._version:
            return version
        wanted = dict(SearchTerm.objects.values_list("word", "weight"))
        wanted = {normalise(word): weight for word, weight in wanted.items()}
        tokenizer = self.tokenizer
        with self._lock:
            for word in set(self._applied) - set(wanted):
                tokenizer.del_word(word)
            for word, weight in wanted.items():
                if self._applied.get(word, -1) != weight:
                    # A company term must win over jieba's own cut; suggest_freq finds the
                    # frequency that makes it one word, an explicit weight overrides that.
                    tokenizer.add_word(word, freq=weight or None)
                    if not weight:
                        tokenizer.suggest_freq(word, tune=True)
            self._applied = wanted
            self._version = version
        return version

    # HMM (guessing words missing from the dictionary) is off for texts and queries alike:
    # it halves the indexing time, and the company dictionary is how missing words get in.

    def words(self, normalised: str) -> list[str]:
        """Distinct words of two or more characters (jieba's search mode) of a normalised text."""
        seen: dict[str, None] = {}
        for word in self.tokenizer.cut_for_search(normalised, HMM=False):
            word = word.strip()
            if len(word) > 1 and WORD_RUN.search(word):
                seen.setdefault(word)
        return list(seen)

    def cut(self, normalised: str) -> list[str]:
        """Precise-mode words of a query term, without stop words and punctuation.

        Characters jieba leaves single (a word missing from its dictionary, such as 停梯) are
        joined back into one word: looking for 停 and 梯 anywhere would match almost anything.
        """
        words: list[str] = []
        pending = ""
        for word in (w.strip() for w in self.tokenizer.cut(normalised, HMM=False)):
            if len(word) == 1 and WORD_RUN.fullmatch(word) and word not in STOPWORDS:
                pending += word
                continue
            if pending:
                words.append(pending)
                pending = ""
            if word and word not in STOPWORDS and WORD_RUN.search(word):
                words.append(word)
        if pending:
            words.append(pending)
        return words


segmenter = Segmenter()


# ---------------------------------------------------------------------------------------------
# Queries


@dataclass
class ParsedQuery:
    raw: str
    terms: list[str] = field(default_factory=list)  # normalised, each must occur exactly
    truncated: bool = False

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse_query(raw: str) -> ParsedQuery:
    """Split what the person typed into terms: white space and list punctuation separate them.

    Terms without a letter, digit or character (only symbols) are dropped; at most
    ``MAX_TERMS`` distinct terms of a query of at most ``MAX_QUERY_CHARS`` characters.
    """
    raw = (raw or "").strip()
    truncated = len(raw) > MAX_QUERY_CHARS
    raw = raw[:MAX_QUERY_CHARS]
    terms: dict[str, None] = {}
    for part in _TERM_SPLIT.split(normalise(raw)):
        if part and WORD_RUN.search(part):
            terms.setdefault(part)
    terms_list = list(terms)
    if len(terms_list) > MAX_TERMS:
        terms_list, truncated = terms_list[:MAX_TERMS], True
    return ParsedQuery(raw=raw, terms=terms_list, truncated=truncated)


def relaxed_terms(terms: list[str]) -> list[str]:
    """The words jieba (with the company dictionary) finds in the terms, for a second try
    when no document contains a term exactly: 小区停水 -> 小区, 停水."""
    words: dict[str, None] = {}
    for term in terms:
        for word in segmenter.cut(term) or [term]:
            words.setdefault(word)
    return list(words)[:MAX_TERMS]


# ---------------------------------------------------------------------------------------------
# Highlighting: escape first, then mark.


def _spans(normalised: str, terms: list[str]) -> list[tuple[int, int]]:
    spans = []
    for term in terms:
        start = normalised.find(term)
        while start != -1:
            spans.append((start, start + len(term)))
            start = normalised.find(term, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, terms: list[str]) -> SafeString:
    """The whole text, HTML-escaped, with every occurrence of a term in <mark>."""
    return _mark(text, _spans(normalise(text), terms), 0, len(text))


def snippet(text: str, terms: list[str], width: int = 120) -> SafeString:
    """A window of about ``width`` characters around the first match, escaped and marked."""
    spans = _spans(normalise(text), terms)
    start = max(0, spans[0][0] - width // 4) if spans else 0
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    inner = [(s, e) for s, e in spans if e > start and s < end]
    out = _mark(text, inner, start, end)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + out + suffix)  # noqa: S308 - every piece of text went through escape()


def _mark(text: str, spans: list[tuple[int, int]], start: int, end: int) -> SafeString:
    parts, pos = [], start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        parts.append(escape(text[pos:s]))
        parts.append("<mark>" + escape(text[s:e]) + "</mark>")
        pos = e
    parts.append(escape(text[pos:end]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text went through escape()
