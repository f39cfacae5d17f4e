"""Machinery every mechanism uses: random streams, counters, the world's records.

Layer 2: imports the scenario layer only.
"""
