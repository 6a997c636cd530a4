"""Deterministic repairs: parse the model's JSON (LLM output is data), tidy fields, remove banned
words, shorten over-long fields at sentence or word boundaries, fix hashtags and list items, strip
what cannot be read aloud. Whatever these cannot fix is left for regeneration or shown as failing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.studio.analysis import FieldValue, render, sentences, term_pattern, words
from app.studio.prompts import LIMIT_MARGIN
from app.studio.types import ContentType, Limits

_DANGLING = {
    "a", "an", "the", "and", "or", "but", "with", "for", "to", "of", "in", "on", "at", "by", "from", "your",
    "our", "its", "their", "my", "is", "are", "that", "this", "as", "so", "than", "into", "every", "more",
}
_BULLET = re.compile(r"^\s*(?:[-*•·]+|\d+[.)])\s*")


# -- parsing ------------------------------------------------------------------------------------------


def parse_fields(raw: str, ctype: ContentType) -> dict[str, FieldValue]:
    """The fields of a (possibly truncated) JSON answer; absent fields come back empty."""
    data: Any
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, ValueError):
        data = _salvage(raw, ctype)
    if not isinstance(data, dict):
        data = {}
    fields: dict[str, FieldValue] = {}
    for spec in ctype.fields:
        value = data.get(spec.name)
        if spec.kind == "list":
            if isinstance(value, str):
                value = [v for v in re.split(r"\n|(?<=\w)\s*[;,]\s*(?=#)", value) if v.strip()]
            fields[spec.name] = [str(v) for v in value if isinstance(v, str | int | float)] \
                if isinstance(value, list) else []
        elif isinstance(value, list):
            fields[spec.name] = " ".join(str(v) for v in value)
        else:
            fields[spec.name] = "" if value is None else str(value)
    return fields


def _salvage(raw: str, ctype: ContentType) -> dict[str, Any]:
    """Pull what fields we can out of JSON cut off by the token limit."""
    out: dict[str, Any] = {}
    for spec in ctype.fields:
        name = re.escape(spec.name)
        if spec.kind == "list":
            found = re.search(rf'"{name}"\s*:\s*\[(.*?)(?:\]|$)', raw, re.DOTALL)
            if found:
                out[spec.name] = [_unescape(s) for s in re.findall(r'"((?:[^"\\]|\\.)*)"', found.group(1))]
        else:
            found = re.search(rf'"{name}"\s*:\s*"((?:[^"\\]|\\.)*)', raw, re.DOTALL)
            if found:
                out[spec.name] = _unescape(found.group(1))
    return out


def _unescape(text: str) -> str:
    try:
        return str(json.loads(f'"{text}"'))
    except json.JSONDecodeError:
        return text.replace('\\"', '"').replace("\\n", "\n")


# -- text surgery ---------------------------------------------------------------------------------------


def tidy(text: str, *, multiline: bool = False) -> str:
    """Collapse whitespace, drop wrapping quotes and markdown emphasis, fix spaces around punctuation."""
    text = text.replace("\r", "").replace("**", "").replace("__", "")
    if multiline:
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
        text = "\n\n".join(p for p in paragraphs if p)
    else:
        text = " ".join(text.split())
    text = text.strip().strip('"“”').strip()
    text = re.sub(r"[ \t]+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?=[,.;:!?])", "", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"^[\s,.;:!?\-–—]+", "", text)
    if text and text[0].islower() and text[0].isalpha():
        text = text[0].upper() + text[1:]
    return text.strip()


def drop_dangling(text: str) -> str:
    """Strip trailing connectors and punctuation left by a cut ("Smooth coffee for the" -> "Smooth coffee")."""
    text = text.rstrip(" ,;:-–—/&(")
    while True:
        parts = text.rsplit(" ", 1)
        if len(parts) == 2 and parts[1].lower().strip(",;:") in _DANGLING:
            text = parts[0].rstrip(" ,;:-–—/&(")
        else:
            return text


def mend_endings(text: str) -> str:
    """End no sentence on a connector: "Fresh coffee delivered to your." -> "Fresh coffee delivered."

    Removing a banned word or a cut can leave a sentence ending "…on your."; a marketer would never write that.
    """
    def mend_line(line: str) -> str:
        parts = re.split(r"(?<=[.!?])\s+", line)
        out = []
        for part in parts:
            stripped = part.rstrip()
            end = stripped[-1:] if stripped[-1:] in (".", "!", "?") else ""
            body = stripped[:-1] if end else stripped
            mended = drop_dangling(body) if end else body
            out.append(f"{mended}{end}" if mended and any(c.isalnum() for c in mended) else part)
        return " ".join(out)

    return "\n".join(mend_line(line) for line in text.split("\n"))


def shorten(text: str, max_chars: int | None = None, max_words: int | None = None,
            keep: Sequence[str] = ()) -> str:
    """Fit ``text`` to the limits: keep whole sentences when that keeps enough, else whole words.

    A ``keep`` phrase (a required keyword) that ``text`` uses survives when any cut can keep it:
    whole words instead of whole sentences, or leading sentences dropped instead of trailing ones.
    """
    def fits(candidate: str) -> bool:
        return (max_chars is None or len(candidate) <= max_chars) and \
            (max_words is None or len(words(candidate)) <= max_words)

    if fits(text):
        return text
    out = _shorten(text, fits, max_chars)
    wanted = [k for k in keep if term_pattern(k).search(text)]
    if not any(not term_pattern(k).search(out) for k in wanted):
        return out
    parts = sentences(text)
    tries = [_cut_words(text, fits)] + [_shorten(" ".join(parts[i:]), fits, max_chars) for i in range(1, len(parts))]
    for candidate in tries:
        if candidate and all(term_pattern(k).search(candidate) for k in wanted):
            return candidate
    return out


def _shorten(text: str, fits: Callable[[str], bool], max_chars: int | None) -> str:
    if fits(text):
        return text
    kept: list[str] = []
    for sentence in sentences(text):
        trial = " ".join([*kept, sentence])
        if not fits(trial):
            break
        kept.append(sentence)
    whole = " ".join(kept)
    budget = max_chars or len(text)
    if kept and len(whole) >= 0.5 * min(budget, len(text)):
        return whole
    return _cut_words(text, fits)


def _cut_words(text: str, fits: Callable[[str], bool]) -> str:
    out = ""
    for token in text.split():
        trial = f"{out} {token}".strip()
        if not fits(trial):
            break
        out = trial
    out = drop_dangling(out)
    if out and out[-1] not in ".!?" and text.rstrip()[-1:] in ".!?" and fits(out + "."):
        out += "."
    return out


def looks_cut(text: str, cap: int | None) -> bool:
    """Did the grammar stop this text at (about) its character cap, mid-thought?"""
    return cap is not None and len(text) >= int(cap * LIMIT_MARGIN) - 3 and text.rstrip()[-1:] not in ".!?"


def untruncate(text: str, cap: int | None) -> str:
    """Drop the unfinished tail of a text the grammar cut off at its cap."""
    if not looks_cut(text, cap):
        return text
    complete = sentences(text)
    if len(complete) > 1:
        head = " ".join(complete[:-1])
        if len(head) >= 0.4 * len(text):
            return head
    # the last word was probably cut in the middle: drop it with any connector left hanging
    return drop_dangling(text.rsplit(" ", 1)[0]) if " " in text.strip() else text


def remove_terms(text: str, terms: list[str]) -> str:
    """``text`` without any of ``terms`` (whole words, any case); repeated until none is left."""
    for _ in range(10):
        before = text
        for term in terms:
            text = term_pattern(term).sub("", text)
        text = tidy(text, multiline="\n" in text)
        if text == before:
            break
    return text


def hashtag(text: str) -> str:
    """'#cold brew!' -> '#ColdBrew'; '' when nothing usable is left."""
    raw = text.strip().lstrip("#")
    parts = re.findall(r"[A-Za-z0-9_]+", raw)
    if not parts:
        return ""
    body = parts[0] if len(parts) == 1 else "".join(p[:1].upper() + p[1:] for p in parts)
    if not body[0].isalpha():
        return ""
    return "#" + body


def make_speakable(text: str) -> str:
    text = re.sub(r"https?://\S+|www\.\S+", "", text)
    text = re.sub(r"\[[^\]]*\]|\{[^}]*\}|<[^>]*>", "", text)
    text = re.sub(r"(?<!\w)[#@](\w+)", r"\1", text)
    text = "".join(ch for ch in text if not _is_symbol(ch))
    text = re.sub(r"[*_|\[\]{}<>]", "", text)
    return tidy(text, multiline="\n" in text)


def _is_symbol(ch: str) -> bool:
    import unicodedata

    return unicodedata.category(ch) in ("So", "Cs")


# -- the whole repair ----------------------------------------------------------------------------------


def repair(
    fields: Mapping[str, FieldValue],
    ctype: ContentType,
    limits: Limits,
    banned: list[str],
    keywords: list[str] | None = None,
    cta: str = "",
) -> tuple[dict[str, FieldValue], list[str]]:
    """Fix what can be fixed without the model; return the new fields and what was done.

    A button-like ``cta`` field (a few words at most) takes the brief's ``cta`` when the model
    wrote something else and the brief's fits.
    """
    done: list[str] = []
    out: dict[str, FieldValue] = {}
    for spec in ctype.fields:
        value = fields.get(spec.name, [] if spec.kind == "list" else "")
        if spec.kind == "list":
            items = value if isinstance(value, list) else [value]
            out[spec.name] = _repair_list(spec.name, items, spec.item_max_chars, spec.item_pattern,
                                          limits, banned, keywords or [], done)
            continue
        text = str(value)
        cap = limits.max_chars.get(spec.name)
        button = spec.name == "cta" and spec.max_words is not None
        if button and cta and cta.lower() not in text.lower() and len(cta) <= (cap or len(cta)) \
                and len(words(cta)) <= (spec.max_words or 99) and not any(term_pattern(b).search(cta) for b in banned):
            done.append("used the brief's call to action")
            text = cta
        clean = tidy(text, multiline=spec.multiline)
        cut = untruncate(clean, cap)
        if not _loses(clean, cut, keywords or []):  # a keyword the grammar put last is no cut-off tail
            clean = cut
        if banned:
            without = remove_terms(clean, banned)
            if without != clean:
                done.append(f"removed banned words from {spec.name}")
                clean = without
        if spec.speakable:
            spoken = make_speakable(clean)
            if spoken != clean:
                done.append(f"made {spec.name} speakable")
                clean = spoken
        short = shorten(clean, cap, limits.max_words.get(spec.name), keep=keywords or [])
        if short != clean:
            done.append(f"shortened {spec.name} ({len(clean)} -> {len(short)} characters)")
            clean = short
        mended = mend_endings(clean)
        if mended != clean and not _loses(clean, mended, keywords or []):
            done.append(f"mended a sentence ending in {spec.name}")
            clean = mended
        out[spec.name] = clean
    _keyword_hashtags(out, ctype, limits, keywords or [], done)
    _fit_totals(out, ctype, limits, done, keywords or [])
    return out, done


def _keyword_hashtags(out: dict[str, FieldValue], ctype: ContentType, limits: Limits, keywords: Sequence[str],
                      done: list[str]) -> None:
    """A required keyword the text does not use becomes a hashtag where the type has them and there is room."""
    text = "\n".join(str(out[s.name]) for s in ctype.fields if s.kind == "text")
    for spec in ctype.fields:
        if spec.kind != "list" or not (spec.item_pattern and "#" in spec.item_pattern):
            continue
        tags = out[spec.name]
        assert isinstance(tags, list)
        for keyword in keywords:
            tag = hashtag(keyword)
            squashed = tag.lstrip("#").lower()
            if not tag or term_pattern(keyword).search(text) or any(t.lstrip("#").lower() == squashed for t in tags):
                continue
            if len(tags) >= limits.max_items.get(spec.name, 30) or not re.fullmatch(spec.item_pattern, tag):
                continue
            total = limits.total_max_chars
            if total is not None and len(render({**out, spec.name: [*tags, tag]}, ctype)) > total:
                continue
            tags.append(tag)
            done.append(f"added {tag} for the keyword {keyword!r}")


def _loses(before: str, after: str, keywords: Sequence[str]) -> bool:
    """Does ``after`` miss a keyword that ``before`` used?"""
    return any(term_pattern(k).search(before) and not term_pattern(k).search(after) for k in keywords)


def _repair_list(name: str, items: list[str], item_max: int | None, pattern: str | None, limits: Limits,
                 banned: list[str], keywords: list[str], done: list[str]) -> list[str]:
    is_tags = bool(pattern and "#" in pattern)
    clean: list[str] = []
    seen: set[str] = set()
    for item in items:
        text = tidy(_BULLET.sub("", str(item)))
        if banned:
            text = remove_terms(text, banned)
        if is_tags:
            text = hashtag(text)
            if text and any(re.sub(r"\W", "", b).lower() in text.lower() for b in banned):
                text = ""
        elif item_max:
            text = untruncate(text, item_max)
            text = shorten(text, item_max)
        if not text or (pattern and not re.fullmatch(pattern, text)) or text.lower() in seen:
            continue
        seen.add(text.lower())
        clean.append(text)
    cap = limits.max_items.get(name)
    if cap is not None and len(clean) > cap:
        done.append(f"kept the first {cap} of {len(clean)} {name}")
        clean = clean[:cap]
    low = limits.min_items.get(name, 0)
    if is_tags and len(clean) < low:
        for keyword in keywords:
            tag = hashtag(keyword)
            if tag and tag.lower() not in seen and (not pattern or re.fullmatch(pattern, tag)):
                clean.append(tag)
                seen.add(tag.lower())
                done.append(f"added {tag} from the keywords")
            if len(clean) >= low:
                break
    if [str(i) for i in items] != clean and not any(d.startswith(("kept", "added")) for d in done[-2:]):
        done.append(f"cleaned {name}")
    return clean


def _fit_totals(out: dict[str, FieldValue], ctype: ContentType, limits: Limits, done: list[str],
                keywords: Sequence[str] = ()) -> None:
    """Shorten the longest text field until the whole fits the platform's total limits."""
    text_fields = [s for s in ctype.fields if s.kind == "text"]
    if not text_fields:
        return
    longest = max(text_fields, key=lambda s: len(str(out.get(s.name, ""))))
    if limits.total_max_chars is not None:
        excess = len(render(out, ctype)) - limits.total_max_chars
        if excess > 0:
            current = str(out[longest.name])
            out[longest.name] = shorten(current, max(len(current) - excess, 1), keep=keywords)
            done.append(f"shortened {longest.name} to fit {limits.total_max_chars} characters in all")
    if limits.total_max_words is not None:
        total = sum(len(words(str(out.get(s.name, "")))) for s in text_fields)
        excess = total - limits.total_max_words
        if excess > 0:
            current = str(out[longest.name])
            out[longest.name] = shorten(current, max_words=max(len(words(current)) - excess, 1), keep=keywords)
            done.append(f"shortened {longest.name} to fit {limits.total_max_words} spoken words")
