"""The benchmark command reports the contract keys (speed targets live in benchmarks/, not here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_bench_json_has_the_contract_keys():
    done = subprocess.run([sys.executable, "-m", "sim", "bench", "--json", "--compare-scale", "40000",
                           "--full-scale", "4000", "--ensemble-seeds", "2", "--calibration-scale", "20000"],
                          capture_output=True, text=True, timeout=600, check=True)
    result = json.loads(done.stdout)
    for key in ("speedup", "full_scale_seconds", "full_scale_peak_memory_gb", "ensemble_seconds",
                "full_scale_ns_per_entity_month"):
        assert result[key] > 0, key
    assert result["cpu_model"]  # the machine class goes with every result
    assert result["full_scale_huge_pages"] is False  # sim/__init__.py: large arrays in ordinary pages
    assert result["mesa_entity_steps_per_second"] > 0 and result["vector_entity_steps_per_second"] > 0
    assert result["full_scale_entities_end"] > result["full_scale_entities_start"] > 1000
    assert result["calibration_scale"] == 20000 and result["calibration_runs_per_second"] > 0
    assert "entity-months/s" in done.stderr  # progress goes to stderr, JSON alone on stdout
