"""What a user writes: the scenario's schema, reading scenario files and presets,
the content categories, edge lists.

Layer 1 (above errors and version): imports nothing else of Tightrope.
"""
