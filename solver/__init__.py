"""infraplan solver: CP-SAT placement, plan evaluation, batch solving and reports."""

from solver.batch import BatchResult as BatchResult
from solver.batch import solve_many as solve_many
from solver.cpsat.scaling import ScalingWarning as ScalingWarning
from solver.evaluate import evaluate as evaluate
from solver.evaluation import Evaluation as Evaluation
from solver.evaluation import Violation as Violation
from solver.explain import Diagnosis as Diagnosis
from solver.explain import explain as explain
from solver.report import Comparison as Comparison
from solver.report import compare as compare
from solver.report import report as report
from solver.sensitivity import Sensitivity as Sensitivity
from solver.sensitivity import sensitivity as sensitivity
from solver.solve import ModelInvalidError as ModelInvalidError
from solver.solve import SolveOptions as SolveOptions
from solver.solve import solve as solve
from solver.whatif import WhatIf as WhatIf
from solver.whatif import whatif as whatif
