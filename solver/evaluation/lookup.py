"""Lookups built once from the instance, so every check of a plan entry is a dict access
(and the evaluator's own SPEC section 3 paths)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from solver.evaluation.paths import RouteTable
from solver.evaluation.periods import Horizon, resolve_horizon

if TYPE_CHECKING:
    from models import (
        Accelerator,
        InferenceProfile,
        InferenceService,
        Instance,
        InventoryItem,
        Site,
        TrainingJob,
        TrainingOption,
    )


@dataclass(frozen=True, slots=True)
class InstanceLookup:
    """Entities by id and the (workload, accelerator) and (site, accelerator) tables."""

    sites: dict[str, Site]
    accelerators: dict[str, Accelerator]
    jobs: dict[str, TrainingJob]
    services: dict[str, InferenceService]
    regions: frozenset[str]
    #: (site, accelerator) -> inventory entry
    inventory: dict[tuple[str, str], InventoryItem]
    #: (job, accelerator) -> training option
    options: dict[tuple[str, str], TrainingOption]
    #: (service, accelerator) -> replica profile
    profiles: dict[tuple[str, str], InferenceProfile]
    site_tags: dict[str, frozenset[str]]
    #: SPEC section 3 paths, computed by the evaluator itself
    routes: RouteTable
    #: the instance's periods (one, "all", unless it is scheduled)
    horizon: Horizon

    @classmethod
    def build(cls, instance: Instance) -> InstanceLookup:
        """Index an instance (ids are unique: the instance has been validated)."""
        return cls(
            sites=dict(instance.site_by_id),
            accelerators=dict(instance.accelerator_by_id),
            jobs={job.id: job for job in instance.training},
            services={service.id: service for service in instance.inference},
            regions=frozenset(region.id for region in instance.regions),
            inventory={
                (site.id, item.accelerator): item
                for site in instance.sites
                for item in site.inventory
            },
            options={
                (job.id, option.accelerator): option
                for job in instance.training
                for option in job.options
            },
            profiles={
                (service.id, profile.accelerator): profile
                for service in instance.inference
                for profile in service.profiles
            },
            site_tags={site.id: frozenset(site.tags) for site in instance.sites},
            routes=RouteTable(instance),
            horizon=resolve_horizon(instance),
        )

    def missing_tags(self, site_id: str, required: list[str]) -> list[str]:
        """The required tags a site does not carry, in the order they were required."""
        tags = self.site_tags[site_id]
        if tags.issuperset(required):  # the common case, without building a list
            return []
        return [tag for tag in required if tag not in tags]
