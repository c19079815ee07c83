"""infraplan solver: CP-SAT placement, plan evaluation, batch solving and reports."""

from solver.cpsat.scaling import ScalingWarning as ScalingWarning
from solver.solve import ModelInvalidError as ModelInvalidError
from solver.solve import SolveOptions as SolveOptions
from solver.solve import solve as solve
