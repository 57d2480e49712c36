"""h200cast: what-if forecasts of China's H200 demand, the supply shortfall, US fee revenue
and domestic substitution under Beijing's policy stances."""

__version__ = "0.1.0"
