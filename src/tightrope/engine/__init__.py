"""Stepping the model: the simulation and its phase table, the minute loop, the run
driver, checkpoints, the memory estimate, stops and threads.

Layer 5: imports every layer below it.
"""
