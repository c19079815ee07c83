"""The parts of the plan evaluator (`solver.evaluate`): lookups, SPEC §4 entry checks,
usage figures, SPEC §5 constraints, SPEC §6 costs, the result type and the tolerance."""

from solver.evaluation.result import Evaluation as Evaluation
from solver.evaluation.usage import AcceleratorUsage as AcceleratorUsage
from solver.evaluation.usage import HeatUsage as HeatUsage
from solver.evaluation.usage import LinkUsage as LinkUsage
from solver.evaluation.usage import RouteUsage as RouteUsage
from solver.evaluation.usage import ServiceUsage as ServiceUsage
from solver.evaluation.usage import SiteUsage as SiteUsage
from solver.evaluation.violations import Constraint as Constraint
from solver.evaluation.violations import Violation as Violation
