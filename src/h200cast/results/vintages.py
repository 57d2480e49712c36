"""A vintage's discipline and its recorded content hash.

* :func:`discipline`: a vintage as of D may use only what was published by D. Every
  input of every scenario it offers (parameters, path steps, chain rows) must cite facts
  published by D, and its stored estimates must equal a refit on the rows published by D.
* :func:`content_digest`: the SHA-256 of everything the vintage resolves to: the resolved
  parameters of each scenario it offers (each stance, its history path, its chain) and
  the observations it conditions on. Recorded in ``vintage.yaml`` (``record``), it makes
  any change visible: a test compares it, and :func:`record` adds a new hash only with a
  reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from h200cast import settings
from h200cast.errors import InputError
from h200cast.scenario import calendar
from h200cast.scenario.load import cited, load_vintage
from h200cast.scenario.ref import ScenarioRef
from h200cast.scenario.schema import STANCES, Scenario
from h200cast.scenario.vintage import Vintage


def refs(v: Vintage) -> list[ScenarioRef]:
    """The scenarios a vintage offers: every stance from its origin, its history path, its chain."""
    return [
        *(ScenarioRef("stance", s) for s in STANCES),
        ScenarioRef("path", v.history_path),
        ScenarioRef("switching", v.switching),
    ]


def _params(params_dir: Path | None) -> Path:
    return Path(params_dir) if params_dir else settings.params_dir()


def scenarios(v: Vintage, params_dir: Path | None = None) -> dict[str, Scenario]:
    """Each scenario of :func:`refs`, resolved at the vintage: ``"stance open_market"`` -> it."""
    from h200cast.results.scenarios import load_scenario

    return {
        str(r): load_scenario(r, params_dir=_params(params_dir), vintage=v.name) for r in refs(v)
    }


def content(v: Vintage, params_dir: Path | None = None) -> dict[str, Any]:
    """What the content hash covers: the resolved parameters' digests and the conditioning."""
    from h200cast.results.conditioning import constraints

    resolved = scenarios(v, params_dir)
    out: dict[str, Any] = {"vintage": v.name, "origin": v.origin}
    out["scenarios"] = {k: s.digest() for k, s in resolved.items()}
    sc = resolved[str(ScenarioRef("switching", v.switching))]
    months = calendar.month_labels(sc.calendar.start, sc.calendar.horizon_months)
    out["conditioning"] = [
        {k: x for k, x in c.as_dict().items() if k != "source"} for c in constraints(v, sc, months)
    ]
    return out


def content_digest(v: Vintage, params_dir: Path | None = None) -> str:
    """SHA-256 of :func:`content`."""
    blob = json.dumps(content(v, params_dir), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Finding:
    """One breach of a vintage's discipline."""

    scenario: str
    key: str
    ids: tuple[str, ...]
    published: dt.date
    file: str | None

    def error(self, v: Vintage) -> InputError:
        return InputError(
            f"vintage {v.name} cites evidence published after its date: "
            f"{', '.join(self.ids)} (published {self.published}), in {self.scenario}",
            file=self.file,
            key=self.key,
            value=list(self.ids),
        )


def discipline(v: Vintage, params_dir: Path | None = None) -> list[Finding]:
    """Every input of the vintage's scenarios citing facts published after its date."""
    from h200cast.estimation.evidence import cached
    from h200cast.scenario.load import build_layers, validate

    facts = cached().facts
    out: list[Finding] = []
    seen: set[str] = set()
    for r in refs(v):
        layers = build_layers(
            stance=r.stance,
            path=r.path,
            switching=r.switching,
            params_dir=_params(params_dir),
            vintage=v.name,
        )
        sc = validate(layers)
        for loc, ids in cited(sc.model_dump(mode="python")):
            late = tuple(i for i in ids if i in facts and facts[i].date > v.date)
            key = ".".join(loc[:-1])
            if late and key not in seen:
                seen.add(key)
                when = max(facts[i].date for i in late)
                out.append(Finding(str(r), key, late, when, layers.source_of(loc)))
    return out


def check_estimates(v: Vintage, params_dir: Path | None = None) -> None:
    """Fail unless each stored estimate of the vintage equals a refit on the rows published by its date."""
    import math

    from h200cast.estimation.estimate import ESTIMATES, fit
    from h200cast.io.yamlfile import load_yaml

    folder = settings.estimates_dir(v.name, _params(params_dir))
    for name in ESTIMATES:
        f = folder / f"{name}.yaml"
        if not f.is_file():
            continue
        stored = load_yaml(f).get("spec", {})
        for k, x in fit(name, v.date).spec.items():
            old = stored.get(k)
            same = (
                isinstance(old, int | float) and math.isclose(old, x, rel_tol=1e-4, abs_tol=1e-9)
                if isinstance(x, float)
                else old == x
            )
            if not same:
                raise InputError(
                    f"vintage {v.name}: the stored estimate differs from a refit on the rows "
                    f"published by {v.date} ({k}={x!r}); it uses rows published later, or is stale",
                    file=f,
                    key=f"spec.{k}",
                    value=old,
                )


def check(name: str | dt.date | None = None, params_dir: Path | None = None) -> tuple[Vintage, str]:
    """Check a vintage whole: discipline, estimates and recorded hash. Returns it and its hash."""
    v, f = load_vintage(_params(params_dir), name)
    found = discipline(v, params_dir)
    if found:
        raise found[0].error(v)
    check_estimates(v, params_dir)
    digest = content_digest(v, params_dir)
    if v.recorded != digest:
        raise InputError(
            f"vintage {v.name} changed since it was recorded (content hash {digest[:12]}, "
            f"recorded {(v.recorded or 'none')[:12]}); if the change is deliberate, record it: "
            f'h200cast params record --vintage {v.name} --reason "..."',
            file=f,
            key="record",
        )
    return v, digest


def record(name: str, reason: str, params_dir: Path | None = None) -> tuple[Path, str]:
    """Append the current content hash to the vintage's ``record``, with ``reason``.

    The vintage must pass its discipline first. The file's text is kept (comments
    included): the entry is appended to the ``record`` list, which is the file's last key.
    """
    from h200cast.io.atomic import atomic_write_text

    reason = reason.strip()
    if not reason:
        raise InputError("expected a reason for the change", key="--reason", value=reason)
    v, f = load_vintage(_params(params_dir), name)
    found = discipline(v, params_dir)
    if found:
        raise found[0].error(v)
    check_estimates(v, params_dir)
    digest = content_digest(v, params_dir)
    if digest == v.recorded:
        return f, digest
    text = f.read_text(encoding="utf-8")
    lines = text.rstrip("\n").split("\n")
    if not lines[-1].startswith("record:") and not lines[-1].startswith("  - "):
        raise InputError("expected `record:` to be the file's last key", file=f, key="record")
    if lines[-1].strip() == "record: []":
        lines[-1] = "record:"
    entry = {"on": dt.date.today().isoformat(), "sha256": digest, "reason": reason}
    lines.append("  - " + json.dumps(entry, ensure_ascii=False))
    atomic_write_text(f, "\n".join(lines) + "\n")
    return f, digest
