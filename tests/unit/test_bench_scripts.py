"""The benchmark scripts run and report sane figures (the figures themselves live in bench/)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
