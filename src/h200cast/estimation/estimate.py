"""Estimates from history: the S-curve's speed and the counterfactual growth of demand.

Two parameters are fitted rather than set by hand, each with statsmodels OLS:

* ``substitution_speed`` -> ``domestic.logit_speed_per_year``. The log-odds of the
  domestic share rise linearly with time (an S-curve); counts made on different bases
  (units, value, AI-server chips, Nvidia's complement, self-sufficiency) get their own
  level through a basis term but share one slope. Only data rows are fitted; analysts'
  forecasts are kept apart, as outside comparison points.
* ``demand_growth`` -> ``demand.ai_spending_growth_per_year``. Log Nvidia China revenue
  by fiscal quarter follows a trend with a step at each US export-control event
  (intervention terms, fitted freely: the October 2023 step comes out positive, likely the
  buying ahead of the rule). The trend is the counterfactual growth without controls.
  Standard errors are plain OLS with Student-t intervals. With 18 quarters, HAC
  (Newey-West) and feasible-GLS AR(1) intervals covered a known trend less often in
  simulations than plain OLS: 69-83% at 90% nominal. Plain OLS covered about 90% with
  independent errors, but only 79-86% (depending on the design) with AR(1) errors at 0.5,
  about what the real residuals show (Durbin-Watson 0.9, reported with every fit). The
  growth interval is therefore probably somewhat too narrow. An event with fewer than two
  quarters after it cannot be told apart from noise: those quarters are left out.

Each fit becomes a truncated normal over the parameter. Its sd is the standard error
widened by t(0.95, dof) / z(0.95), so that its 90% interval equals the fit's Student-t
interval despite the few degrees of freedom. ``h200cast estimate`` stores each
fitted spec with a record of the data (rows, dates, method, coefficients, residual checks)
in ``params/estimates/NAME.yaml``. A parameter that says ``from_estimate: NAME`` reads it.
With ``--as-of DATE`` the fits use only rows published on or before DATE.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from h200cast import intervals, settings
from h200cast.errors import InputError
from h200cast.estimation import history

MIN_POINTS = 5
MIN_DOF = 3  # fewer residual degrees of freedom give no usable interval
REFERENCE_BASIS = "nvidia_complement"
REFERENCE_YEAR = 2025.5  # centre of the time axis: the domestic share's reference (mid-2025)
Z95 = 1.6448536269514722


@dataclass(frozen=True)
class Event:
    """A US export-control event: a step in Nvidia's China revenue from then on."""

    name: str
    date: dt.date
    evidence: tuple[str, ...] = ()
    assumption: str | None = None


EVENTS: tuple[Event, ...] = (
    Event(
        "oct_2022_controls",
        dt.date(2022, 10, 7),
        assumption="the issue names October 2022; the BIS rule's day is not in data/evidence",
    ),
    Event(
        "oct_2023_controls",
        dt.date(2023, 10, 17),
        assumption="the issue names October 2023; the BIS rule's day is not in data/evidence",
    ),
    Event("apr_2025_h20_licence", dt.date(2025, 4, 9), evidence=("L026",)),
)
STEP_AFTER_DAYS = 45  # a quarter counts as controlled when it ends this long after the event


@dataclass(frozen=True)
class Fit:
    """A fitted estimate: the distribution it gives and the record behind it."""

    name: str
    target: str
    spec: dict[str, Any]
    method: str
    as_of: str | None
    data: list[dict[str, Any]]
    coefficients: list[dict[str, float | str]]
    stats: dict[str, float]
    checks: dict[str, float]
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    model: Any = field(default=None, repr=False, compare=False)  # the statsmodels results

    def record(self) -> dict[str, Any]:
        """What ``params/estimates/NAME.yaml`` stores."""
        return {
            "name": self.name,
            "target": self.target,
            "spec": self.spec,
            "record": {
                "method": self.method,
                "as_of": self.as_of,
                "rows": len(self.data),
                "data": self.data,
                "coefficients": self.coefficients,
                "stats": self.stats,
                "residual_checks": self.checks,
                "comparisons": self.comparisons,
                "prediction": self.prediction(),
            },
        }

    def prediction(self) -> dict[str, Any]:
        """What an OLS prediction interval needs, so that charts need not refit (or import statsmodels)."""
        res = self.model
        return {
            "terms": [c["term"] for c in self.coefficients],
            "params": [float(x) for x in res.params],
            "cov": [[float(x) for x in row] for row in np.asarray(res.cov_params())],
            "scale": float(res.scale),
            "t95": float(_t_widen(res.df_resid) * Z95),
        }


def _sig(x: float, digits: int = 6) -> float:
    """Round to significant digits, so stored estimates do not churn on the last bits."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def _t_widen(dof: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.95, dof) / Z95)


def _coef_table(res: Any, names: Sequence[str]) -> list[dict[str, float | str]]:
    ci = np.asarray(res.conf_int(alpha=0.10))
    return [
        {
            "term": n,
            "coef": _sig(res.params[i]),
            "se": _sig(res.bse[i]),
            "t": _sig(res.tvalues[i]),
            "p": _sig(res.pvalues[i]),
            intervals.names(90)[0]: _sig(ci[i, 0]),
            intervals.names(90)[1]: _sig(ci[i, 1]),
        }
        for i, n in enumerate(names)
    ]


def _residual_checks(resid: np.ndarray) -> dict[str, float]:
    from statsmodels.stats.stattools import durbin_watson, jarque_bera

    _jb, jb_p, skew, kurt = jarque_bera(resid)
    return {
        "durbin_watson": _sig(durbin_watson(resid)),
        "jarque_bera_p": _sig(jb_p),
        "skew": _sig(skew),
        "kurtosis": _sig(kurt),
        "resid_sd": _sig(float(np.std(resid, ddof=1))),
    }


def _truncnormal(
    mean: float, sd: float, low: float, high: float, unit: str, evidence: list[str], note: str
) -> dict[str, Any]:
    return {
        "dist": "truncnormal",
        "mean": _sig(mean),
        "sd": _sig(sd),
        "low": _sig(low),
        "high": _sig(high),
        "unit": unit,
        "evidence": sorted(set(evidence)),
        "note": note,
    }


def _as_of_str(as_of: dt.date | None) -> str | None:
    return as_of.isoformat() if as_of else None


# --- substitution speed -------------------------------------------------------------------------


def share_design(years: np.ndarray, bases: Sequence[str], levels: Sequence[str]) -> np.ndarray:
    """Regressors of the S-curve fit: constant, years from mid-2025, one dummy per non-reference basis."""
    cols = [np.ones(len(years)), np.asarray(years, float) - REFERENCE_YEAR]
    cols += [np.array([b == lv for b in bases], float) for lv in levels]
    return np.column_stack(cols)


def fit_substitution_speed(
    rows: Sequence[history.ShareRow] | None = None, as_of: dt.date | None = None
) -> Fit:
    """Fit logit(domestic share) = a + b (year - 2025.5) + basis levels; b is the S-curve's speed.

    Parameters
    ----------
    rows
        Share rows (default: ``data/history/domestic_share.csv``); forecasts are set aside.
    as_of
        Use only rows published on or before this date.
    """
    import statsmodels.api as sm

    rows = list(history.load_shares() if rows is None else rows)
    if as_of:
        rows = history.as_of(rows, as_of)
    data = [r for r in rows if r.kind == "data"]
    forecasts = [r for r in rows if r.kind == "forecast"]
    bad = [r for r in data if not 0.0 < r.share < 1.0]
    if bad:
        raise InputError(
            "expected shares strictly between 0 and 1 for a logit fit",
            file=history.SHARE_FILE,
            key=bad[0].period,
            value=bad[0].share,
        )
    if len(data) < MIN_POINTS or len({r.year for r in data}) < 3:
        raise InputError(
            f"too few data points to fit the S-curve: need at least {MIN_POINTS} rows over 3 years",
            file=history.SHARE_FILE,
            key="substitution_speed",
            value=len(data),
        )
    levels = sorted({r.basis for r in data} - {REFERENCE_BASIS})
    years = np.array([r.year for r in data])
    X = share_design(years, [r.basis for r in data], levels)
    y = np.log([r.share / (1 - r.share) for r in data])
    _enough_dof(len(y), X.shape[1], history.SHARE_FILE, "substitution_speed")
    res = sm.OLS(y, X).fit()
    names = ["const", "per_year", *(f"basis[{lv}]" for lv in levels)]
    b, se, dof = float(res.params[1]), float(res.bse[1]), float(res.df_resid)
    sd = se * _t_widen(dof)
    comparisons = []
    for r in forecasts:
        basis = r.basis if r.basis in levels or r.basis == REFERENCE_BASIS else REFERENCE_BASIS
        pred = res.get_prediction(share_design(np.array([r.year]), [basis], levels)).summary_frame(
            alpha=0.10
        )
        lo, mid, hi = (float(pred[c].iloc[0]) for c in ("obs_ci_lower", "mean", "obs_ci_upper"))
        comparisons.append(
            {
                "period": r.period,
                "source": r.source,
                "basis": r.basis,
                "forecast": r.share,
                "fitted_p50": _sig(_expit(mid)),
                "fitted_p5": _sig(_expit(lo)),
                "fitted_p95": _sig(_expit(hi)),
                "evidence": list(r.evidence),
            }
        )
    note = (
        f"OLS of logit(share) on year and counting basis, {len(data)} data rows "
        f"{min(years):.2f}-{max(years):.2f}; slope {b:.3f} (se {se:.3f}, {dof:.0f} dof)"
    )
    return Fit(
        name="substitution_speed",
        target="domestic.logit_speed_per_year",
        spec=_truncnormal(
            b,
            sd,
            0.0,
            max(b + 6 * sd, 1e-6),
            "log-odds/year",
            [e for r in data for e in r.evidence],
            note,
        ),
        method="statsmodels OLS: logit(share) ~ 1 + (year - 2025.5) + C(basis); forecasts excluded",
        as_of=_as_of_str(as_of),
        data=[
            {
                "period": r.period,
                "year": r.year,
                "share": r.share,
                "source": r.source,
                "basis": r.basis,
                "evidence": list(r.evidence),
                "published": r.published.isoformat(),
            }
            for r in data
        ],
        coefficients=_coef_table(res, names),
        stats={"n": len(data), "dof": dof, "r2": _sig(res.rsquared), "aic": _sig(res.aic)},
        checks=_residual_checks(np.asarray(res.resid)),
        comparisons=comparisons,
        model=res,
    )


def _enough_dof(n: int, k: int, file: str, name: str) -> None:
    if n - k < MIN_DOF:
        raise InputError(
            f"too few data points: {n} rows for {k} coefficients leave {n - k} degrees of freedom, "
            f"need at least {MIN_DOF}",
            file=file,
            key=name,
            value=n,
        )


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# --- demand growth -----------------------------------------------------------------------------------


def revenue_series(
    rows: Sequence[history.RevenueRow], known_by: dt.date
) -> list[history.RevenueRow]:
    """One figure per quarter: the primary table, else the press, else the alternate table.

    Quarters that could not have been reported by ``known_by`` (published later) are left out.
    """
    rank = {"primary": 0, "press": 1, "alternate": 2}
    best: dict[str, history.RevenueRow] = {}
    for r in rows:
        if r.published > known_by:
            continue
        if r.fiscal_quarter not in best or rank[r.version] < rank[best[r.fiscal_quarter].version]:
            best[r.fiscal_quarter] = r
    return sorted(best.values(), key=lambda r: r.period_end)


def revenue_design(
    quarter_ends: Sequence[dt.date], t: np.ndarray, events: Sequence[Event]
) -> np.ndarray:
    """Regressors of the revenue fit: constant, quarters since the first, one step per event."""
    cols = [np.ones(len(t)), np.asarray(t, float)]
    for ev in events:
        cols.append(np.array([(q - ev.date).days > STEP_AFTER_DAYS for q in quarter_ends], float))
    return np.column_stack(cols)


def fit_demand_growth(
    rows: Sequence[history.RevenueRow] | None = None, as_of: dt.date | None = None
) -> Fit:
    """Fit log(China revenue) = a + g t + steps at export-control events; exp(4g) - 1 is the growth.

    Parameters
    ----------
    rows
        Revenue rows (default: ``data/history/nvidia_china_revenue.csv``).
    as_of
        Use only quarters reported on or before this date; by default, those reported by
        the history files' vintage (``history.VINTAGE``), the day their evidence ends.
    """
    import statsmodels.api as sm

    rows = list(history.load_revenue() if rows is None else rows)
    known_by = as_of or history.VINTAGE
    series = revenue_series(rows, known_by)
    after = {
        ev.name: sum((r.period_end - ev.date).days > STEP_AFTER_DAYS for r in series)
        for ev in EVENTS
    }
    for ev in EVENTS:
        if after[ev.name] == 1:  # a step fitted on one quarter only reproduces that quarter
            series = [r for r in series if (r.period_end - ev.date).days <= STEP_AFTER_DAYS]
    events = [ev for ev in EVENTS if after[ev.name] >= 2]
    if len(series) < MIN_POINTS + len(events):
        raise InputError(
            f"too few quarters to fit demand growth: need at least {MIN_POINTS + len(events)}",
            file=history.REVENUE_FILE,
            key="demand_growth",
            value=len(series),
        )
    first = series[0].period_end
    t = np.array([round((r.period_end - first).days / 91.3125) for r in series], float)
    X = revenue_design([r.period_end for r in series], t, events)
    y = np.log([r.revenue_usd for r in series])
    _enough_dof(len(y), X.shape[1], history.REVENUE_FILE, "demand_growth")
    res = sm.OLS(y, X).fit()
    g, se, dof = float(res.params[1]), float(res.bse[1]), float(res.df_resid)
    growth = math.exp(4 * g) - 1
    sd = 4 * se * math.exp(4 * g) * _t_widen(dof)  # delta method, widened to Student-t
    names = ["const", "per_quarter", *(f"step[{ev.name}]" for ev in events)]
    note = (
        f"OLS of log China revenue on a quarterly trend and {len(events)} export-control steps, "
        f"{len(series)} quarters {series[0].fiscal_quarter}-{series[-1].fiscal_quarter}; "
        f"counterfactual growth {growth:.3f}/yr (se {sd / _t_widen(dof):.3f})"
    )
    evidence = [e for r in series for e in r.evidence] + [e for ev in events for e in ev.evidence]
    return Fit(
        name="demand_growth",
        target="demand.ai_spending_growth_per_year",
        spec=_truncnormal(
            growth, sd, max(growth - 6 * sd, -0.9), growth + 6 * sd, "1/year", evidence, note
        ),
        method="statsmodels OLS: log(revenue) ~ 1 + t + steps at export-control events; growth = exp(4 g) - 1",
        as_of=_as_of_str(as_of),
        data=[
            {
                "fiscal_quarter": r.fiscal_quarter,
                "period_end": r.period_end.isoformat(),
                "revenue_usd": r.revenue_usd,
                "version": r.version,
                "aggregator": r.aggregator,
                "evidence": list(r.evidence),
                "published": r.published.isoformat(),
            }
            for r in series
        ],
        coefficients=_coef_table(res, names),
        stats={"n": len(series), "dof": dof, "r2": _sig(res.rsquared), "aic": _sig(res.aic)},
        checks=_residual_checks(np.asarray(res.resid)),
        comparisons=[
            {
                "event": ev.name,
                "date": ev.date.isoformat(),
                "evidence": list(ev.evidence),
                "assumption": ev.assumption,
            }
            for ev in events
        ],
        model=res,
    )


ESTIMATES: dict[str, Callable[..., Fit]] = {
    "substitution_speed": fit_substitution_speed,
    "demand_growth": fit_demand_growth,
}


def fit(name: str, as_of: dt.date | None = None) -> Fit:
    """Run one named estimate."""
    if name not in ESTIMATES:
        raise InputError(
            f"unknown estimate; expected one of: {', '.join(ESTIMATES)}", key="estimate", value=name
        )
    return ESTIMATES[name](as_of=as_of)


def stored(name: str, params_dir: Path | None = None, vintage: str | None = None) -> dict[str, Any]:
    """An estimate as written by ``h200cast estimate`` for a vintage (the latest by default),
    no refitting."""
    from h200cast.io.yamlfile import load_yaml

    if name not in ESTIMATES:
        raise InputError(
            f"unknown estimate; expected one of: {', '.join(ESTIMATES)}", key="estimate", value=name
        )
    return load_yaml(settings.estimates_dir(vintage, params_dir) / f"{name}.yaml")


def predict(prediction: dict[str, Any], X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and 90% prediction interval of new observations with regressors ``X``.

    Uses a stored fit's ``prediction`` record: se of a new observation is
    sqrt(x' Cov x + scale), the interval median +/- t(0.95, dof) x se, as statsmodels' obs_ci.
    """
    beta, cov = np.asarray(prediction["params"]), np.asarray(prediction["cov"])
    mid = X @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", X, cov, X) + prediction["scale"])
    half = prediction["t95"] * se
    return mid, mid - half, mid + half


def to_yaml(f: Fit) -> str:
    """The stored form of a fit."""
    import yaml

    head = f"# Written by `h200cast estimate` ({f.method}). Do not edit by hand.\n"
    return head + yaml.safe_dump(f.record(), sort_keys=False, allow_unicode=True, width=100)
