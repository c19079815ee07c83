"""Each service's rps unit and demand in units, per period (SPEC §9: §5's rows per period).

Every period's demand rows, capacity rows and n+1 rows are v1's rows with that period's
demand, so the unit of each (service, period) is chosen exactly as v1 chooses a service's
unit (`solver.cpsat.variables.service_units`: `rps_unit`, the exact-flow argument of
docs/formulation.md and its tolerance test), from that period's demand and the profiles'
rates. v1's function is called on a view holding the period's demand, not copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from solver.cpsat.variables import ServiceUnits, service_units

if TYPE_CHECKING:
    from models import Instance
    from models.eligibility import Eligibility
    from models.workloads import InferenceService


@dataclass(frozen=True)
class _PeriodDemand:
    """What `service_units` reads of an instance: its services (here with one period's
    demand as `demand_rps`) and its eligibility."""

    inference: list[InferenceService]
    eligibility: Eligibility


def period_units(
    instance: Instance, *, widened: bool, fine: bool = False
) -> list[dict[str, ServiceUnits]]:
    """Per period position, each service's units (v1's choice on that period's demand;
    `fine`: v1's fine units of the relaxation)."""
    schedule = instance.schedule
    result: list[dict[str, ServiceUnits]] = []
    for position in range(len(schedule.periods)):
        services = [
            service.model_copy(update={"demand_rps": schedule.demand[service.id][position]})
            for service in instance.inference
        ]
        view = _PeriodDemand(services, instance.eligibility)
        result.append(service_units(cast("Instance", view), widened=widened, fine=fine))
    return result
