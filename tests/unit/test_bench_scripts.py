"""The benchmark scripts run and report sane figures (the figures themselves live in bench/)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_url_capacity_measures_every_encoding_on_the_corpus():
    capacity = load("url_capacity")
    result = capacity.measure()
    assert result["texts"] >= 20 and result["chars"][0] >= 50 and result["chars"][1] <= 8000
    rows = result["rows"]
    m, z = rows["m (baseline)"], rows["z gzip (served)"]
    assert z["capacity_8192"] > m["capacity_8192"] > 1000
    assert z["capacity_250"] > 0 and m["capacity_250"] > 0
    assert "URL capacity" in capacity.report(result)


def test_locomo_measures_the_product_search_beside_the_old_ranker_on_a_sample():
    locomo = load("locomo")
    if not locomo.DATA.exists():
        pytest.skip(f"LoCoMo's dev split is not at {locomo.DATA} (../shared/data, not in the repository)")
    result = locomo.measure(sample=12, conversations=2)
    assert result["questions"] == 24 and result["turns"] > 500
    tallies = result["product"]["tallies"]
    ours = tallies[locomo.OURS].figures()
    assert ours["n"] == 24 and 0 < ours["hit5"] <= ours["hit10"] and ours["hit5"] <= ours["session5"]
    assert tallies[locomo.OURS_NO_SESSION].figures()["n"] == tallies[locomo.BEFORE].figures()["n"] == 24
    variants = result["variants"]
    old = variants["BM25, words as they are (the old analyzer)"]["all"].figures()
    assert 0 < old["hit5"] <= 100 and len(variants) >= 5
    assert 0 < result["analyze_us"]["warm"] < 1000
    text = locomo.report(result)
    assert "## Search quality (LoCoMo)" in text and "a sample: 24 questions of 2 conversations" in text
    assert text.count("Goal") == 2


def test_search_cost_measures_the_index_beside_the_old_scan():
    search_cost = load("search_cost")
    result = search_cost.measure(sizes=(30, 120), sqlite_reps=5, cold_runs=0, sqlite_size=120)
    for row in result["dynamodb"].values():
        assert len(row["index"]) == len(search_cost.QUERIES) and all(units > 0 for units in row["index"])
        assert row["index_found_oldest"] and row["scan_found_oldest"]  # under 5,000: both see everything
    assert result["dynamodb"][120]["scan"][0] > result["dynamodb"][30]["scan"][0]  # the scan grows with the data
    assert result["write"]["with index"]["write"] > result["write"]["without index"]["write"] > 0
    assert result["sqlite"]["index"]["p50"] > 0
    text = search_cost.report(result)
    assert "Search cost" in text and "Goal:" in text and "**met**" in text
