"""Reference implementations for the benchmarks (NDlib- and Mesa-style peers of
the model's diffusion): not the model, and never imported by it.

Beside layer 6: imports the layers below the engine; only tests and benchmarks import it.
"""
