"""Scenario discovery: which input combinations lead to an outcome of interest (PRIM).

The Patient Rule Induction Method (Friedman and Fisher 1999, as used in the EMA
Workbench) starts from a box holding every point and repeatedly peels off the slice
(a share ``alpha`` of the points at one end of one input) whose removal raises the
share of points with the outcome (the density) most. It stops when the box would hold
fewer than ``min_mass`` of the points or no peel raises the density. Each box on the
way trades coverage (the share of all outcome points inside) against density; the
reported box is the densest one that still covers ``min_coverage`` of the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Box:
    """Limits on the inputs, and how well they pick out the outcome."""

    limits: dict[str, tuple[float, float]]  # only the inputs that were restricted
    coverage: float  # share of the outcome points inside the box
    density: float  # share of the points inside the box with the outcome
    mass: float  # share of all points inside the box

    def rules(self) -> list[str]:
        """The box as readable rules, e.g. ``us.fee_rate <= 0.2``."""
        out = []
        for k, (lo, hi) in self.limits.items():
            if np.isfinite(lo) and np.isfinite(hi):
                out.append(f"{lo:.4g} <= {k} <= {hi:.4g}")
            elif np.isfinite(lo):
                out.append(f"{k} >= {lo:.4g}")
            else:
                out.append(f"{k} <= {hi:.4g}")
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Box:
        """A box back from its record in ``discovery.json`` (its ``rules``, ``coverage``,
        ``density`` and ``mass``); the limits have the 4 significant digits of the rules.

        Raises ``ValueError`` on a rule that :meth:`rules` would not write.
        """
        limits = {}
        for rule in record["rules"]:
            found = next((m for m in (r.fullmatch(rule) for r in RULES) if m), None)
            if found is None:
                raise ValueError(f"not a rule of a PRIM box: {rule!r}")
            parts = found.groupdict()
            limits[parts["key"]] = (
                float(parts.get("low") or -np.inf),
                float(parts.get("high") or np.inf),
            )
        return cls(
            limits, float(record["coverage"]), float(record["density"]), float(record["mass"])
        )


RULES = (
    re.compile(r"(?P<low>\S+) <= (?P<key>\S+) <= (?P<high>\S+)"),
    re.compile(r"(?P<key>\S+) >= (?P<low>\S+)"),
    re.compile(r"(?P<key>\S+) <= (?P<high>\S+)"),
)
"""The three shapes of :meth:`Box.rules`: both limits, a lower one, an upper one."""


def prim(
    x: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    *,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    min_coverage: float = 0.5,
) -> tuple[Box, list[Box]]:
    """Find a box of inputs ``x`` (points, inputs) where the boolean outcome ``y`` is dense.

    Returns the chosen box and the whole peeling trajectory.
    """
    x, y = np.asarray(x, float), np.asarray(y, bool)
    n, d = x.shape
    if y.sum() == 0:
        raise ValueError("no point has the outcome of interest: nothing to discover")
    lo, hi = np.full(d, -np.inf), np.full(d, np.inf)
    inside = np.ones(n, bool)

    def box(mask: np.ndarray) -> Box:
        limits = {
            names[j]: (lo[j], hi[j]) for j in range(d) if np.isfinite(lo[j]) or np.isfinite(hi[j])
        }
        return Box(
            limits, float(y[mask].sum() / y.sum()), float(y[mask].mean()), float(mask.mean())
        )

    trajectory = [box(inside)]
    while inside.mean() > min_mass:
        best = None
        density = y[inside].mean()
        for j in range(d):
            xj = x[inside, j]
            for side, cut in (
                ("low", np.quantile(xj, alpha)),
                ("high", np.quantile(xj, 1 - alpha)),
            ):
                keep = inside & ((x[:, j] >= cut) if side == "low" else (x[:, j] <= cut))
                removed = inside.sum() - keep.sum()
                if removed == 0 or keep.mean() < min_mass:
                    continue
                dens = y[keep].mean()
                if (
                    best is None
                    or dens > best[0]
                    or (dens == best[0] and keep.sum() > best[3].sum())
                ):
                    best = (dens, j, (side, cut), keep)
        if best is None or best[0] <= density:
            break
        _, j, (side, cut), keep = best
        if side == "low":
            lo[j] = cut
        else:
            hi[j] = cut
        inside = keep
        trajectory.append(box(inside))
    eligible = [b for b in trajectory if b.coverage >= min_coverage] or trajectory[:1]
    chosen = max(eligible, key=lambda b: (b.density, b.coverage))
    return chosen, trajectory
