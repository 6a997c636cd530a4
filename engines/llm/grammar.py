"""JSON schema -> GBNF for llama.cpp, with one extension: a string that must contain given phrases.

llama-cpp-python's converter (``llama_cpp.llama_grammar``) turns a JSON schema into a GBNF grammar. A
string schema may also carry ``"x-contains": ["phrase", ...]`` (the ``x-`` prefix marks a vendor
extension: other JSON-schema tools ignore it). Such a string must contain every phrase, in the order
given, as whole words (no letter, digit or ``_`` right before or after it), written as given or
capitalised (``phrase_forms``), and stays within ``maxLength`` characters. The phrases must all be
written within the first ``"x-contains-within"`` characters (default: ``maxLength``), which leaves
room to finish the sentence after them. The model writes freely and may use a phrase wherever it
fits (after a space, an opening bracket or at the start), but cannot close the string without it,
and once only the phrases still fit in what is left it is the only thing it may write.

``"x-contains-lead": ["", "Acme "]`` instead makes the string open with the first phrase, after one
of the given leads (written exactly): a short field then reads "GPS collar: ..." or "Acme GPS
collar ..." rather than getting the phrase forced in mid-word when the model did not plan for it.

The grammar is a small automaton: a few rules per (phrase reached, characters written), so it grows
linearly with ``maxLength``: a 405-character field with one phrase is about 2,000 short rules,
built in 4-8 ms and parsed by llama.cpp in 3 ms.
"""

from __future__ import annotations

import json
from typing import Any

#: longest string a phrase constraint bounds (beyond, the grammar gets large for no benefit)
MAX_CONTAINS_CHARS = 1000

_LATIN = r"\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F"
# word characters as Python's regex \w sees them (ASCII and the Latin letters, enough for a brief's keyword)
_WORD = rf"[A-Za-z0-9_{_LATIN}]"
# where a phrase may start after: a space, an opening bracket, a new line (the JSON escape \n)
_OPENING = r'[ (] | "\\n"'
# any other character of a JSON string that is not a word character: punctuation, or another escape
_OTHER = (rf'[^"\\A-Za-z0-9_{_LATIN}\x00-\x1F\x7F (] | '
          r'"\\" (["/\\bfrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])')


def schema_to_gbnf(schema: dict[str, Any]) -> str:
    """The GBNF grammar for ``schema`` (llama-cpp-python's converter plus ``x-contains`` strings)."""
    from llama_cpp.llama_grammar import SchemaConverter

    class _Converter(SchemaConverter):  # type: ignore[misc]
        def visit(self, schema: dict[str, Any], name: str) -> str:
            phrases = schema.get("x-contains") if isinstance(schema, dict) else None
            if phrases and schema.get("type") == "string":
                return _contains_rule(self, [str(p) for p in phrases], schema, name)
            return str(super().visit(schema, name))

    converter = _Converter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    resolved = converter.resolve_refs(json.loads(json.dumps(schema)), "input")
    converter.visit(resolved, "")
    return str(converter.format_grammar())


def phrase_forms(phrase: str) -> list[str]:
    """The ways a phrase may be written: as given, or with its first letter or every word capitalised
    (a sentence start, a headline): "cold brew", "Cold brew", "Cold Brew"; "GPS collar", "GPS Collar".
    Never a mixed case like "gPs CoLLar" (a grammar that allowed any case got exactly that)."""
    phrase = " ".join(phrase.split())
    forms = [phrase, phrase[:1].upper() + phrase[1:],
             " ".join(w[:1].upper() + w[1:] for w in phrase.split(" "))]
    unique: list[str] = []
    for form in forms:
        if form not in unique and len(form) == len(phrase):
            unique.append(form)
    return unique


def _json_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def phrase_rule(phrase: str) -> tuple[str, int]:
    """The GBNF for the phrase (any of its forms, as JSON string text) and its length in characters."""
    texts = [_json_text(form) for form in phrase_forms(phrase)]
    length = len(" ".join(phrase.split()))
    literals = [_literal(text) for text in texts]
    return (literals[0] if len(literals) == 1 else "(" + " | ".join(literals) + ")"), length


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _contains_rule(conv: Any, phrases: list[str], schema: dict[str, Any], name: str) -> str:
    """Add the automaton's rules to ``conv``; return the name of the string rule."""
    from llama_cpp.llama_grammar import RESERVED_NAMES

    rules = [phrase_rule(p) for p in phrases]
    lengths = [length for _, length in rules]
    count = len(rules)
    needed = sum(lengths) + count - 1  # the phrases with one separator between each
    budget = min(int(schema.get("maxLength") or MAX_CONTAINS_CHARS), MAX_CONTAINS_CHARS)
    within = min(int(schema.get("x-contains-within") or budget), budget)
    if needed > within:
        raise ValueError(f"the phrases {phrases} do not fit in {within} characters")
    base = (name or "root") + "-x"
    opening = conv._add_rule(f"{base}-o", _OPENING)
    other = conv._add_rule(f"{base}-p", f"{_WORD} | {_OTHER}")  # a character after which no phrase starts
    nonword = conv._add_rule(f"{base}-n", f"{opening} | {_OTHER}")
    # what is still needed from phrase m on (it and the phrases after it, one separator between each)
    rest = [sum(lengths[m:]) + (count - 1 - m) for m in range(count)]

    # after the last phrase: free text (f) or, right after the phrase, a non-word character first (k)
    free: dict[int, str] = {}
    after: dict[int, str] = {}
    for pos in range(budget, -1, -1):
        if pos == budget:
            free[pos] = after[pos] = conv._add_rule(f"{base}-f{pos}", '""')
        else:
            free[pos] = conv._add_rule(f"{base}-f{pos}", f'"" | ({opening} | {other}) {free[pos + 1]}')
            after[pos] = conv._add_rule(f"{base}-k{pos}", f'"" | {nonword} {free[pos + 1]}')

    # phrase m not written yet: s = a phrase may start here (string start, after a space, an opening
    # bracket or a new line), w = it may not (after a letter, digit or other punctuation: "7-GPS collar",
    # "#GPS collar" or "L'GPS collar" are no natural use), j = right after the previous phrase (a
    # non-word character must come first). A state exists only where phrase m and the rest still fit.
    nxt: dict[int, str] = after
    start = ""
    leads = [str(lead) for lead in schema.get("x-contains-lead") or []]
    for m in range(count - 1, -1, -1):
        if m == 0 and leads:  # the first phrase opens the string, after one of the leads
            alts = [f"{_literal(_json_text(lead))} {rules[0][0]} {nxt[len(lead) + lengths[0]]}" if lead
                    else f"{rules[0][0]} {nxt[lengths[0]]}" for lead in leads if len(lead) + rest[0] <= within]
            if not alts:
                raise ValueError(f"no lead in {leads} leaves room for the phrases {phrases}")
            start = conv._add_rule(f"{base}0-lead", " | ".join(alts))
            break
        s_rule: dict[int, str] = {}
        w_rule: dict[int, str] = {}
        j_rule: dict[int, str] = {}
        last = within - rest[m]
        phrase = rules[m][0]
        for pos in range(last, -1, -1):
            alts = [f"{phrase} {nxt[pos + lengths[m]]}"]
            if pos + 1 <= last:
                step = [f"{opening} {s_rule[pos + 1]}"]
                if pos + 2 <= last:
                    step.append(f"{other} {w_rule[pos + 1]}")
                w_rule[pos] = conv._add_rule(f"{base}{m}-w{pos}", " | ".join(step))
                if pos + 2 <= last:
                    j_rule[pos] = conv._add_rule(f"{base}{m}-j{pos}", f"{opening} {s_rule[pos + 1]} | "
                                                 f"{_OTHER} {w_rule[pos + 1]}")
                else:
                    j_rule[pos] = conv._add_rule(f"{base}{m}-j{pos}", f"{opening} {s_rule[pos + 1]}")
                alts.extend(step)
            s_rule[pos] = conv._add_rule(f"{base}{m}-s{pos}", " | ".join(alts))
        nxt = j_rule
        start = s_rule[0]
    rule_name = name + "-" if name in RESERVED_NAMES else name or "root"
    return str(conv._add_rule(rule_name, f'"\\"" {start} "\\"" space'))
