"""Shared fixtures: small instance documents as plain dicts, fresh for every test.

The builders return new dicts on every call, so a test may break one freely. Tests that
need validated objects call `models.parse_instance` on them.

Property tests are derandomized (hypothesis profile "repeatable"): `make test` and CI run
the same cases every time. `HYPOTHESIS_PROFILE=explore` draws fresh cases; a failing case
found that way is added as an `@example` or a test of its own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PATH = REPO_ROOT / "instances" / "example.json"
#: The worked example of SPEC §9 (scheduled, schema infraplan/v2).
EXAMPLE_V2_PATH = REPO_ROOT / "instances" / "v2" / "example-v2.json"


def tiny_instance_dict() -> dict[str, Any]:
    """A valid two-site instance: one region, one transit node, one job, one service.

    nyc -4ms- east, nyc -3ms- hub -3ms- west; east has 8 h100, west 16 a100.
    """
    return {
        "schema": "infraplan/v1",
        "name": "tiny",
        "horizon_hours": 100,
        "accelerators": [
            {"id": "h100", "memory_gb": 80, "power_kw": 1.0, "cooling": "air"},
            {"id": "a100", "memory_gb": 40, "power_kw": 0.5, "cooling": "liquid"},
        ],
        "sites": [
            {
                "id": "east",
                "grid_kw": 100,
                "pue": 1.2,
                "energy_price_per_kwh": 0.1,
                "tags": ["us"],
                "inventory": [{"accelerator": "h100", "count": 8, "hourly_cost": 2.0}],
            },
            {
                "id": "west",
                "grid_kw": 100,
                "pue": 1.1,
                "energy_price_per_kwh": 0.05,
                "inventory": [{"accelerator": "a100", "count": 16, "hourly_cost": 1.0}],
            },
        ],
        "regions": [{"id": "nyc"}],
        "transit": [{"id": "hub"}],
        "links": [
            {"a": "nyc", "b": "east", "latency_ms": 4},
            {"a": "nyc", "b": "hub", "latency_ms": 3},
            {"a": "hub", "b": "west", "latency_ms": 3},
        ],
        "training": [
            {
                "id": "train",
                "options": [
                    {"accelerator": "h100", "count": 4},
                    {"accelerator": "a100", "count": 8},
                ],
                "run_hours": 50,
            }
        ],
        "inference": [
            {
                "id": "chat",
                "profiles": [{"accelerator": "h100", "per_replica": 1, "rps": 10.0}],
                "demand_rps": {"nyc": 20},
                "latency_slo_ms": 10,
            }
        ],
    }


def rich_instance_dict() -> dict[str, Any]:
    """A valid instance that sets every optional field at least once, with non-default values."""
    meta = {"owner": "ops", "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}}}
    return {
        "schema": "infraplan/v1",
        "name": "rich",
        "description": "every optional field",
        "meta": meta,
        "horizon_hours": 730,
        "carbon_price_per_tonne": 80,
        "accelerators": [
            {
                "id": "h100",
                "memory_gb": 80,
                "power_kw": 1.0,
                "cooling": "air",
                "description": "air-cooled",
                "meta": {"vendor": "nv"},
            },
            {"id": "gb200", "memory_gb": 192, "power_kw": 1.8, "cooling": "liquid"},
        ],
        "sites": [
            {
                "id": "dc-a",
                "grid_kw": 5000,
                "pue": 1.3,
                "energy_price_per_kwh": 0.09,
                "carbon_g_per_kwh": 300,
                "cooling_kw": {"air": 2000, "liquid": 1500},
                "failure_domain": "zone-1",
                "fixed_cost": 10000,
                "tags": ["eu", "green"],
                "inventory": [
                    {"accelerator": "h100", "count": 512, "hourly_cost": 2.5},
                    {"accelerator": "gb200", "count": 128, "hourly_cost": 6.0},
                ],
                "description": "site a",
                "meta": {"rack_rows": 12},
            },
            {
                "id": "dc-b",
                "grid_kw": 3000,
                "pue": 1.1,
                "energy_price_per_kwh": 0.05,
                "cooling_kw": {"air": 1000},
                "failure_domain": "zone-1",
                "tags": ["eu"],
                "inventory": [{"accelerator": "h100", "count": 256}],
            },
            {
                "id": "dc-c",
                "grid_kw": 2000,
                "pue": 1.5,
                "energy_price_per_kwh": 0.12,
                "inventory": [{"accelerator": "h100", "count": 64, "hourly_cost": 3.0}],
            },
        ],
        "regions": [{"id": "paris", "description": "users", "meta": {"pop": 2}}, {"id": "berlin"}],
        "transit": [{"id": "ix-fra", "description": "exchange", "meta": {"asn": 1}}],
        "links": [
            {
                "a": "paris",
                "b": "dc-a",
                "latency_ms": 3.5,
                "bandwidth_gbps": 100,
                "egress_cost_per_gb": 0.02,
                "description": "dark fibre",
                "meta": {"km": 12},
            },
            {"a": "paris", "b": "ix-fra", "latency_ms": 6, "egress_cost_per_gb": 0.01},
            {"a": "ix-fra", "b": "dc-b", "latency_ms": 2, "bandwidth_gbps": 40},
            {"a": "ix-fra", "b": "berlin", "latency_ms": 4},
            {"a": "dc-b", "b": "dc-c", "latency_ms": 9},
        ],
        "training": [
            {
                "id": "pretrain",
                "options": [
                    {"accelerator": "h100", "count": 256},
                    {"accelerator": "gb200", "count": 64},
                ],
                "run_hours": 500,
                "required": False,
                "unplaced_cost": 1e6,
                "requires_tags": ["eu"],
                "allowed_sites": ["dc-a", "dc-b"],
                "site_costs": {"dc-a": 5000, "dc-b": 0},
                "dataset": {"at": "ix-fra", "size_gb": 20000, "read_gbps": 10},
                "description": "big run",
                "meta": {"team": "research"},
            }
        ],
        "inference": [
            {
                "id": "chat",
                "profiles": [
                    {"accelerator": "h100", "per_replica": 2, "rps": 12.5},
                    {"accelerator": "gb200", "per_replica": 1, "rps": 30},
                ],
                "demand_rps": {"paris": 200, "berlin": 0},
                "latency_slo_ms": 15,
                "request_kb": 4,
                "response_kb": 16,
                "resilience": "n+1",
                "unserved_cost_per_rps_hour": 0.5,
                "requires_tags": ["eu"],
                "allowed_sites": ["dc-a", "dc-b", "dc-c"],
                "description": "chat service",
                "meta": {"tier": 1},
            }
        ],
    }


@pytest.fixture
def tiny_dict() -> dict[str, Any]:
    """A fresh `tiny_instance_dict()` to break or extend."""
    return tiny_instance_dict()


@pytest.fixture
def rich_dict() -> dict[str, Any]:
    """A fresh `rich_instance_dict()` to break or extend."""
    return rich_instance_dict()


@pytest.fixture
def example_path() -> Path:
    """The shipped worked example of SPEC section 2."""
    return EXAMPLE_PATH
