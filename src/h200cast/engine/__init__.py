"""The engine: sampling, switching chains, the vectorised monthly model and its metrics."""
