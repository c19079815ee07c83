"""Tiny hand-made instances for solver tests: small dict builders, validated on use."""

from __future__ import annotations

from typing import Any

from models import Instance, parse_instance


def accelerator(
    accelerator_id: str = "gpu", power_kw: float = 1.0, cooling: str = "air"
) -> dict[str, Any]:
    """An accelerator type."""
    return {"id": accelerator_id, "memory_gb": 80, "power_kw": power_kw, "cooling": cooling}


def site(
    site_id: str,
    inventory: dict[str, tuple[int, float]],
    *,
    grid_kw: float = 1e6,
    pue: float = 1.0,
    energy_price: float = 0.0,
    **extra: Any,
) -> dict[str, Any]:
    """A site with inventory {accelerator: (count, hourly_cost)}."""
    return {
        "id": site_id,
        "grid_kw": grid_kw,
        "pue": pue,
        "energy_price_per_kwh": energy_price,
        "inventory": [
            {"accelerator": acc, "count": count, "hourly_cost": cost}
            for acc, (count, cost) in inventory.items()
        ],
        **extra,
    }


def link(a: str, b: str, latency_ms: float = 5.0, **extra: Any) -> dict[str, Any]:
    """A link between two nodes."""
    return {"a": a, "b": b, "latency_ms": latency_ms, **extra}


def job(
    job_id: str, options: dict[str, int], run_hours: float = 10.0, **extra: Any
) -> dict[str, Any]:
    """A training job with options {accelerator: count}."""
    return {
        "id": job_id,
        "options": [{"accelerator": acc, "count": n} for acc, n in options.items()],
        "run_hours": run_hours,
        **extra,
    }


def service(
    service_id: str,
    profiles: dict[str, tuple[int, float]],
    demand: dict[str, float],
    slo_ms: float = 50.0,
    **extra: Any,
) -> dict[str, Any]:
    """An inference service with profiles {accelerator: (per_replica, rps)}."""
    return {
        "id": service_id,
        "profiles": [
            {"accelerator": acc, "per_replica": k, "rps": rps} for acc, (k, rps) in profiles.items()
        ],
        "demand_rps": demand,
        "latency_slo_ms": slo_ms,
        **extra,
    }


def instance(
    *,
    sites: list[dict[str, Any]],
    accelerators: list[dict[str, Any]] | None = None,
    regions: list[str] | None = None,
    transit: list[str] | None = None,
    links: list[dict[str, Any]] | None = None,
    training: list[dict[str, Any]] | None = None,
    inference: list[dict[str, Any]] | None = None,
    horizon_hours: float = 10.0,
    **extra: Any,
) -> Instance:
    """A validated instance from the parts above."""
    return parse_instance(
        {
            "schema": "infraplan/v1",
            "name": extra.pop("name", "tiny"),
            "horizon_hours": horizon_hours,
            "accelerators": accelerators or [accelerator()],
            "sites": sites,
            "regions": [{"id": r} for r in regions or []],
            "transit": [{"id": t} for t in transit or []],
            "links": links or [],
            "training": training or [],
            "inference": inference or [],
            **extra,
        }
    )


def flexible_job_on_latency_bound_site(unserved_cost_per_rps_hour: float) -> Instance:
    """Job `j` (4 GPUs, 10 hours) runs at A (1 per GPU-hour) or B (1.1); service `s` has
    40 rps (10 per 1-GPU replica) from region r, which reaches only A within its 10 ms
    SLO. Optimum: the job at B, the service at A, 44 + 40 = 84; the job at A (cheaper for
    it) leaves the 40 rps unserved at `unserved_cost_per_rps_hour`."""
    return instance(
        sites=[site("A", {"gpu": (4, 1.0)}), site("B", {"gpu": (4, 1.1)})],
        regions=["r"],
        links=[link("r", "A", 5.0), link("r", "B", 50.0)],
        training=[job("j", {"gpu": 4})],
        inference=[
            service(
                "s",
                {"gpu": (1, 10.0)},
                {"r": 40.0},
                slo_ms=10.0,
                unserved_cost_per_rps_hour=unserved_cost_per_rps_hour,
            )
        ],
    )


def shared_cheap_site() -> Instance:
    """Two services need 60 rps in all (10 rps per 1-GPU replica); A has 4 GPUs at 1 per
    hour, B 8 at 3. Optimum over 10 hours: 4 x 10 + 2 x 30 = 100; one more GPU at A
    would save (3 - 1) x 10 = 20, its price."""
    return instance(
        sites=[site("A", {"gpu": (4, 1.0)}), site("B", {"gpu": (8, 3.0)})],
        regions=["r"],
        links=[link("r", "A"), link("r", "B")],
        inference=[
            service("s1", {"gpu": (1, 10.0)}, {"r": 30.0}),
            service("s2", {"gpu": (1, 10.0)}, {"r": 30.0}),
        ],
    )
