"""The spoken form of a piece of copy: the words the avatar says when a variant becomes a video clip.

Only a type's ``speakable`` fields are spoken when it has any (a video script's hook, script and call to
action); otherwise every field, in order. Each line or list item becomes a sentence (a full stop is added
where none ends it, so the voice pauses between a headline and the body), and what cannot be said well
is left out: links, hashtag-only items (a social post's hashtags), markdown bullets and emoji; an inline
``#word`` is read as ``word``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from app.studio.analysis import FieldValue
from app.studio.types import get_type

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
_ONLY_HASHTAGS = re.compile(r"^(?:#\w+[\s,]*)+$")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_ENDS = ".!?…"


def _clean(line: str) -> str:
    line = _BULLET.sub("", line)
    if _ONLY_HASHTAGS.match(line.strip()):
        return ""
    line = _URL.sub("", line)
    line = _HASHTAG.sub(r"\1", line)
    line = "".join(c for c in line if unicodedata.category(c) not in ("So", "Cs", "Co"))
    line = line.replace("[", "").replace("]", "")
    return " ".join(line.split()).strip(" -–—|")


def _sentence(line: str) -> str:
    trailing = line.rstrip("\"'”’)")
    if trailing and trailing[-1] in _ENDS:
        return line
    if trailing and trailing[-1] in ",;:":
        return trailing[:-1] + "." + line[len(trailing):]
    return line + "."


def spoken_text(fields: Mapping[str, FieldValue], type_: str) -> str:
    """What the avatar says for a variant of content type ``type_`` (empty when nothing is speakable)."""
    ctype = get_type(type_)
    specs = [spec for spec in ctype.fields if spec.speakable] or list(ctype.fields)
    sentences: list[str] = []
    for spec in specs:
        value = fields.get(spec.name, [] if spec.kind == "list" else "")
        lines = [str(v) for v in value] if isinstance(value, list) else str(value).splitlines()
        for line in lines:
            clean = _clean(line)
            if clean:
                sentences.append(_sentence(clean))
    return "\n".join(sentences)


__all__ = ["spoken_text"]
