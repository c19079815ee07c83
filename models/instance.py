"""The planning instance (SPEC section 2) with its cross-reference checks."""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import orjson
from pydantic import Field, PrivateAttr, model_validator

from models.accelerators import Accelerator
from models.base import Annotatable, NonNegFloat, PosFloat
from models.issues import InputIssue, ReferenceIssues, json_path
from models.network import Link, Region, TransitNode
from models.sites import InventoryItem, Site
from models.v2_fields import CurrentPlan, MoveBudgets, OmitUnsetV2, Period, SupplyLimit
from models.workloads import InferenceService, TrainingJob

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from models.eligibility import Eligibility
    from models.paths import NetworkPaths
    from models.schedule import Schedule

INSTANCE_SCHEMA = "infraplan/v1"
INSTANCE_SCHEMA_V2 = "infraplan/v2"


class Instance(Annotatable, OmitUnsetV2):
    """A whole planning instance: network, inventory and workloads; in v2 also periods
    (SPEC §9), the current plan and move budgets (§10) and supply limits (§11)."""

    V2_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"periods", "current", "moves", "supply_limits"}
    )

    schema_: Literal["infraplan/v1", "infraplan/v2"] = Field(alias="schema")
    name: str = Field(min_length=1, max_length=256)
    #: May be omitted in a scheduled instance: it is then the periods' total (SPEC §9).
    horizon_hours: PosFloat
    carbon_price_per_tonne: NonNegFloat = 0.0
    accelerators: list[Accelerator]
    sites: list[Site]
    regions: list[Region] = Field(default_factory=list)
    transit: list[TransitNode] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    training: list[TrainingJob] = Field(default_factory=list)
    inference: list[InferenceService] = Field(default_factory=list)
    periods: list[Period] | None = None
    current: CurrentPlan | None = None
    moves: MoveBudgets | None = None
    supply_limits: list[SupplyLimit] | None = None

    _source_sha256: str | None = PrivateAttr(default=None)

    model_config = {"populate_by_name": True}  # noqa: RUF012

    @model_validator(mode="before")
    @classmethod
    def _horizon_from_periods(cls, data: Any) -> Any:
        """A scheduled instance may omit `horizon_hours`: it is the periods' total."""
        if isinstance(data, dict) and "horizon_hours" not in data:
            periods = data.get("periods")
            if isinstance(periods, list) and periods:
                hours = [p.get("hours") if isinstance(p, dict) else None for p in periods]
                if all(type(h) is int and h > 0 for h in hours):
                    return {**data, "horizon_hours": float(sum(hours))}  # type: ignore[arg-type]
        return data

    @model_validator(mode="after")
    def _check_references(self) -> Instance:
        issues = reference_issues(self)
        if not issues:
            from models.v2_rules import v2_issues

            issues = v2_issues(self)
        if issues:
            raise ReferenceIssues(issues)
        return self

    # -- version 2 ---------------------------------------------------------------

    @property
    def is_v2(self) -> bool:
        """Whether the file declares schema `infraplan/v2` (its solution is v2 too)."""
        return self.schema_ == INSTANCE_SCHEMA_V2

    @property
    def is_scheduled(self) -> bool:
        """Whether the instance has `periods` (SPEC §8: scheduled, not static)."""
        return self.periods is not None

    @cached_property
    def schedule(self) -> Schedule:
        """Periods, and every site's capacities and every service's demand per period."""
        from models.schedule import Schedule

        return Schedule.build(self)

    # -- lookups ---------------------------------------------------------------

    @cached_property
    def accelerator_by_id(self) -> dict[str, Accelerator]:
        """Accelerators by id."""
        return {a.id: a for a in self.accelerators}

    @cached_property
    def site_by_id(self) -> dict[str, Site]:
        """Sites by id."""
        return {s.id: s for s in self.sites}

    @cached_property
    def training_by_id(self) -> dict[str, TrainingJob]:
        """Training jobs by id."""
        return {j.id: j for j in self.training}

    @cached_property
    def inference_by_id(self) -> dict[str, InferenceService]:
        """Inference services by id."""
        return {i.id: i for i in self.inference}

    @cached_property
    def inventory_by_pair(self) -> dict[tuple[str, str], InventoryItem]:
        """Inventory items by (site id, accelerator id)."""
        return {(s.id, item.accelerator): item for s in self.sites for item in s.inventory}

    @cached_property
    def current_training_at(self) -> dict[str, tuple[str, str]]:
        """Where each job of `current` runs at hour 0 (SPEC §10): job -> (site, accelerator)."""
        if self.current is None:
            return {}
        return {entry.job: (entry.site, entry.accelerator) for entry in self.current.training}

    @cached_property
    def paths(self) -> NetworkPaths:
        """Minimum-latency paths from every region and dataset node to every site (SPEC §3)."""
        from models.paths import NetworkPaths

        return NetworkPaths.build(self)

    @cached_property
    def eligibility(self) -> Eligibility:
        """Eligible (site, accelerator) options of every workload (SPEC §4)."""
        from models.eligibility import Eligibility

        return Eligibility.build(self)

    # -- identity --------------------------------------------------------------

    def canonical_json(self) -> bytes:
        """The instance as canonical JSON: every field, keys sorted."""
        data = self.model_dump(mode="json", by_alias=True)
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)

    @property
    def sha256(self) -> str:
        """Identity of the instance: sha256 of the file bytes it was read from, else of
        its canonical JSON (SPEC section 7)."""
        if self._source_sha256 is not None:
            return self._source_sha256
        return hashlib.sha256(self.canonical_json()).hexdigest()

    def with_source_sha256(self, digest: str) -> Instance:
        """Remember the sha256 of the file bytes this instance was read from."""
        self._source_sha256 = digest
        return self

    def __eq__(self, other: object) -> bool:
        """Equal when every field is equal (where the instance was read from does not count)."""
        if not isinstance(other, Instance):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in type(self).model_fields)

    __hash__ = None  # type: ignore[assignment]

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A re-validated copy with `update` applied; derived caches are not carried over."""
        data = self.model_dump(by_alias=True)
        data.update(update or {})
        return self.model_validate(data, strict=False)


def _duplicates(ids: Iterable[str]) -> set[str]:
    return {key for key, n in Counter(ids).items() if n > 1}


def reference_issues(inst: Instance) -> list[InputIssue]:
    """Every cross-reference problem of an instance, each with its JSON path."""
    issues: list[InputIssue] = []

    def bad(message: str, *parts: str | int) -> None:
        issues.append(InputIssue(json_path(*parts), message))

    accelerator_ids = {a.id for a in inst.accelerators}
    node_kind: dict[str, str] = {}
    id_lists: tuple[tuple[str, list[str]], ...] = (
        ("accelerators", [a.id for a in inst.accelerators]),
        ("training", [j.id for j in inst.training]),
        ("inference", [i.id for i in inst.inference]),
    )
    for list_name, ids in id_lists:
        seen: set[str] = set()
        for index, entity_id in enumerate(ids):
            if entity_id in seen:
                bad(f"duplicate id {entity_id!r}", list_name, index, "id")
            seen.add(entity_id)
    node_lists: tuple[tuple[str, str, list[str]], ...] = (
        ("sites", "site", [s.id for s in inst.sites]),
        ("regions", "region", [r.id for r in inst.regions]),
        ("transit", "transit node", [t.id for t in inst.transit]),
    )
    for list_name, kind, node_ids in node_lists:
        for index, node_id in enumerate(node_ids):
            if node_id in node_kind:
                bad(
                    f"duplicate node id {node_id!r} (already a {node_kind[node_id]})",
                    list_name,
                    index,
                    "id",
                )
            else:
                node_kind[node_id] = kind

    def expect(ref: str, wanted: str, *parts: str | int) -> None:
        kind = node_kind.get(ref)
        if kind is None:
            bad(f"unknown {wanted} {ref!r}", *parts)
        elif wanted != "node" and kind != wanted:
            bad(f"{ref!r} is a {kind}, not a {wanted}", *parts)

    def expect_accelerator(ref: str, *parts: str | int) -> None:
        if ref not in accelerator_ids:
            bad(f"unknown accelerator {ref!r}", *parts)

    for s_index, site in enumerate(inst.sites):
        seen_acc: set[str] = set()
        for i_index, item in enumerate(site.inventory):
            expect_accelerator(
                item.accelerator, "sites", s_index, "inventory", i_index, "accelerator"
            )
            if item.accelerator in seen_acc:
                bad(
                    f"accelerator {item.accelerator!r} listed twice in the inventory",
                    "sites",
                    s_index,
                    "inventory",
                    i_index,
                    "accelerator",
                )
            seen_acc.add(item.accelerator)

    pairs: set[frozenset[str]] = set()
    for l_index, link in enumerate(inst.links):
        expect(link.a, "node", "links", l_index, "a")
        expect(link.b, "node", "links", l_index, "b")
        if link.a == link.b:
            bad(f"link from {link.a!r} to itself", "links", l_index, "b")
            continue
        pair = frozenset((link.a, link.b))
        if pair in pairs:
            bad(f"second link between {link.a!r} and {link.b!r}", "links", l_index)
        pairs.add(pair)

    for j_index, job in enumerate(inst.training):
        base = ("training", j_index)
        seen_acc = set()
        for o_index, option in enumerate(job.options):
            expect_accelerator(option.accelerator, *base, "options", o_index, "accelerator")
            if option.accelerator in seen_acc:
                bad(
                    f"accelerator {option.accelerator!r} in two options",
                    *base,
                    "options",
                    o_index,
                    "accelerator",
                )
            seen_acc.add(option.accelerator)
        if job.run_hours > inst.horizon_hours:
            bad(
                f"run_hours {job.run_hours:g} exceeds horizon_hours {inst.horizon_hours:g}",
                *base,
                "run_hours",
            )
        for a_index, site_id in enumerate(job.allowed_sites or []):
            expect(site_id, "site", *base, "allowed_sites", a_index)
        for site_id in job.site_costs:
            expect(site_id, "site", *base, "site_costs", site_id)
        if job.dataset is not None:
            expect(job.dataset.at, "node", *base, "dataset", "at")

    for i_index, service in enumerate(inst.inference):
        base = ("inference", i_index)
        seen_acc = set()
        for p_index, profile in enumerate(service.profiles):
            expect_accelerator(profile.accelerator, *base, "profiles", p_index, "accelerator")
            if profile.accelerator in seen_acc:
                bad(
                    f"accelerator {profile.accelerator!r} in two profiles",
                    *base,
                    "profiles",
                    p_index,
                    "accelerator",
                )
            seen_acc.add(profile.accelerator)
        for region_id in service.demand_rps:
            expect(region_id, "region", *base, "demand_rps", region_id)
        for a_index, site_id in enumerate(service.allowed_sites or []):
            expect(site_id, "site", *base, "allowed_sites", a_index)
    return issues
