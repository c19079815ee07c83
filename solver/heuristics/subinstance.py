"""Instances of some of an instance's workloads on the same network (other capacities).

Used by the neighbourhood search, whose residual instances have the capacity the rest
of a plan leaves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models import Instance

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from models import Site
    from models.network import Link


def sub_instance(
    instance: Instance,
    name: str,
    sites: Sequence[Site],
    links: Sequence[Link],
    services: Collection[str],
    jobs: Collection[str],
) -> Instance:
    """`instance` with the given sites and links (same ids, nodes, latencies and prices,
    other capacities or costs) and only the workloads named."""
    part = Instance(
        schema_="infraplan/v1",
        name=name,
        horizon_hours=instance.horizon_hours,
        carbon_price_per_tonne=instance.carbon_price_per_tonne,
        accelerators=instance.accelerators,
        sites=list(sites),
        regions=instance.regions,
        transit=instance.transit,
        links=list(links),
        training=[j for j in instance.training if j.id in jobs],
        inference=[s for s in instance.inference if s.id in services],
    )
    # Same nodes, links, latencies and egress prices: the whole instance's minimum-latency
    # paths hold (they cover every dataset node of the part too). Stored where the cached
    # property keeps them, which saves a Dijkstra run per source for every part.
    part.__dict__["paths"] = instance.paths
    return part
