"""The model: one module per mechanism (network, people, posting, feed, diffusion,
audiences and access, moderation, the regulator, officials, mobilisation, platforms,
the state's law, events, metrics).

Layer 3: imports the scenario and core layers.
"""
