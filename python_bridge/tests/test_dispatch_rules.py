"""The dispatch rules (``saturn.control.rules``) against the shared conformance cases, which jest runs against the
TypeScript rules (``src/executor/rules.ts``) too: the two implementations decide alike."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from saturn.control.rules import decide

CASES = sorted((Path(__file__).resolve().parents[2] / "schema" / "conformance" / "dispatch").glob("*.json"))


def test_there_are_cases_for_every_rule():
    assert len(CASES) >= 15, CASES


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_the_python_rules_decide_as_the_case_says(path):
    case = json.loads(path.read_text())
    got = decide(case["snapshot"], case["view"], case["options"])
    assert got == case["expect"], f"{path.name}: {case['rule']}"
