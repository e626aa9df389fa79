"""The dispatch rules (``saturn.control.rules``) and early stopping's judge (``saturn.control.rungs``) against the shared
conformance cases, which jest runs against the TypeScript rules (``src/executor/rules.ts``, ``src/executor/rungs.ts``)
too: the two implementations decide alike."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from saturn.control.rules import decide
from saturn.control.rungs import judge, verdict_actions

CONFORMANCE = Path(__file__).resolve().parents[2] / "schema" / "conformance"
CASES = sorted((CONFORMANCE / "dispatch").glob("*.json"))
RUNG_CASES = sorted((CONFORMANCE / "rungs").glob("*.json"))
VERDICT_CASES = sorted((CONFORMANCE / "verdicts").glob("*.json"))


def test_there_are_cases_for_every_rule():
    assert len(CASES) >= 15, CASES


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_the_python_rules_decide_as_the_case_says(path):
    case = json.loads(path.read_text())
    got = decide(case["snapshot"], case["view"], case["options"])
    assert got == case["expect"], f"{path.name}: {case['rule']}"


def test_there_are_cases_for_each_part_of_the_rung_rule():
    assert len(RUNG_CASES) >= 8, RUNG_CASES


@pytest.mark.parametrize("path", RUNG_CASES, ids=[p.stem for p in RUNG_CASES])
def test_the_python_judge_gives_the_verdicts_the_case_says(path):
    case = json.loads(path.read_text())
    assert judge(case["jobs"], case["early_stopping"]) == case["expect"], f"{path.name}: {case['rule']}"


def test_there_are_cases_for_each_verdict_action():
    assert len(VERDICT_CASES) >= 5, VERDICT_CASES


@pytest.mark.parametrize("path", VERDICT_CASES, ids=[p.stem for p in VERDICT_CASES])
def test_the_python_verdicts_act_as_the_case_says(path):
    case = json.loads(path.read_text())
    assert verdict_actions(case["jobs"], case["early_stopping"]) == case["expect"], f"{path.name}: {case['rule']}"
