"""A greedy planner: what a planner does without an optimizer.

Workloads are placed one by one, largest first, each on its cheapest eligible
option that still has inventory, power, cooling and bandwidth left (as per-task
optimizers such as SkyPilot do); services with a region that few sites serve
within the SLO go first, as a planner would take the hardest-to-place first.
Services grow replicas where serving one more rps is cheapest, reuse spare
capacity first, leave demand unserved where that is cheaper (and allowed), and
finally add replicas outside the worst failure domain until n+1 holds (an n+1
service is also planned with its serving spread over its failure domains, and the
cheaper of the two plans kept). Used as
a benchmark peer and as a complete first plan (hint) for CP-SAT. It may fail to
find a plan where an optimizer would.

The package has one module per job: `pricing` (the LP's guide and capacity prices, and
each option's cost), `ledger` (the capacity left at every site and link), `placement`
(placing training jobs and services) and `passes` (the pass orders and `greedy`).
"""

from solver.heuristics.greedy.passes import greedy
from solver.heuristics.greedy.pricing import Guide, capacity_prices

__all__ = ["Guide", "capacity_prices", "greedy"]
