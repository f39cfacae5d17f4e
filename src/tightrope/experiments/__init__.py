"""Many runs: comparisons, experiments and their designs, analysis, calibration.

Layer 6: imports every layer below it.
"""
