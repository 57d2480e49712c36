"""Parameter labels: every sampled parameter has one, and the table holds no stale key."""

from __future__ import annotations

from h200cast import settings
from h200cast.engine.model import specs
from h200cast.results.scenarios import load_scenario
from h200cast.scenario.load import available
from h200cast.scenario.ref import ScenarioRef
from h200cast.scenario.schema import STANCES
from h200cast.scenario.vintage import available as vintages
from h200cast.views import frames, labels


def _sampled() -> set[str]:
    """Every sampled parameter key of every stance, path and chain, at every vintage."""
    params = settings.params_dir()
    refs = [ScenarioRef("stance", s) for s in STANCES]
    refs += [ScenarioRef("path", p) for p in available(params, "paths")]
    refs += [ScenarioRef("switching", c) for c in available(params, "switching")]
    return {
        key
        for v in vintages(params)
        for ref in refs
        for key, _ in specs(load_scenario(ref, vintage=v))
    }


def test_every_sampled_parameter_has_a_label_with_a_unit() -> None:
    keys = _sampled()
    missing = sorted(k for k in keys if labels.label(k) is None)
    assert not missing, f"no label in views/labels.py for: {', '.join(missing)}"
    for k in keys:
        found = labels.label(k)
        assert found is not None and found.text and found.unit, k
        assert labels.text(k) == f"{found.text} ({found.unit})" and "." not in found.text, k
    texts = [labels.text(k) for k in keys]
    assert len(set(texts)) == len(texts), "two parameters read the same"


def test_the_label_table_names_only_real_parameters() -> None:
    keys = _sampled()
    stale = sorted(set(labels.PARAMETERS) - keys)
    assert not stale, f"labels for keys no scenario samples: {', '.join(stale)}"
    levers = {".".join(k.split(".")[2:]) for k in keys if k.startswith("stances.")}
    assert set(labels.LEVERS) == levers


def test_tables_keep_the_key_beside_the_label() -> None:
    import pandas as pd

    shown = frames.labelled(pd.DataFrame({"input": ["money.price_usd", "no.such_key"]}))
    assert list(shown["input"]) == ["H200 selling price (USD/chip)", "no.such_key"]
    assert list(shown["key"]) == ["money.price_usd", "no.such_key"]
    assert labels.text("stances.customs_ban.permitted_share") == (
        "demand Beijing permits under customs_ban (share)"
    )
