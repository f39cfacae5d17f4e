"""The HTML report of a results folder.

Layer 7: imports every layer below it.
"""
