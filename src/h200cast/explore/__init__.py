"""Exploring: sweeps, sensitivity (one at a time, Sobol), scenario discovery (PRIM), model checks."""
