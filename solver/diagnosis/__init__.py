"""Diagnosis of instances without a plan: limits, guarded model, checks, conflicts, relaxations."""
