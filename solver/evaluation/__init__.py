"""The parts of the plan evaluator (`solver.evaluate`): lookups, SPEC §4 entry checks,
usage figures, SPEC §5 constraints, SPEC §6 costs, the result type and the tolerance; for
v2 plans (SPEC §8-§12) the periods, capacities, step series, timing, re-planning figures
and expansions."""

from solver.evaluation.costs import ALL_COST_PARTS as ALL_COST_PARTS
from solver.evaluation.costs import COST_PARTS as COST_PARTS
from solver.evaluation.costs import cost_parts as cost_parts
from solver.evaluation.expansions import BuiltExpansion as BuiltExpansion
from solver.evaluation.replanning import ReplanFigures as ReplanFigures
from solver.evaluation.replanning import ReplicaStart as ReplicaStart
from solver.evaluation.replanning import TrainingMove as TrainingMove
from solver.evaluation.result import Evaluation as Evaluation
from solver.evaluation.steps import LinkStep as LinkStep
from solver.evaluation.steps import SiteStep as SiteStep
from solver.evaluation.timed_usage import PeriodUsage as PeriodUsage
from solver.evaluation.timing import JobTiming as JobTiming
from solver.evaluation.usage import AcceleratorUsage as AcceleratorUsage
from solver.evaluation.usage import HeatUsage as HeatUsage
from solver.evaluation.usage import LinkUsage as LinkUsage
from solver.evaluation.usage import RouteUsage as RouteUsage
from solver.evaluation.usage import ServiceUsage as ServiceUsage
from solver.evaluation.usage import SiteUsage as SiteUsage
from solver.evaluation.violations import Constraint as Constraint
from solver.evaluation.violations import Violation as Violation
