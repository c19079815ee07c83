"""Real-world planning instances built from the public figures in `models/data/reference/`."""

from models.real.build import BuiltInstance as BuiltInstance
from models.real.build import build_real_instances as build_real_instances
from models.real.build import default_out_dir as default_out_dir
from models.real.feasibility import GreedyPlan as GreedyPlan
from models.real.feasibility import InfeasibleInstance as InfeasibleInstance
from models.real.feasibility import greedy_plan as greedy_plan
from models.real.feasibility import plan_solution as plan_solution
from models.real.scenarios import SCENARIOS as SCENARIOS
from models.real.sources import SHARED_ENV as SHARED_ENV
from models.real.sources import data_dir as data_dir
from models.real.sources import load_reference_data as load_reference_data
