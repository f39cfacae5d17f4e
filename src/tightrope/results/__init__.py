"""What a run gives back (Result), how runs are stored and read back, and
intervals over replicates.

Layer 4: imports the scenario, core and model layers.
"""
