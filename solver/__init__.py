"""infraplan solver: CP-SAT placement, plan evaluation, batch solving and reports."""
