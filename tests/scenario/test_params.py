"""Parameter files: validity, citations, merge and override rules, schema drift."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from support import ROOT, scenario

from h200cast.cli.params import check_file
from h200cast.engine.model import specs
from h200cast.errors import InputError
from h200cast.scenario.layers import Layers, apply_override, flatten, parse_override
from h200cast.scenario.load import available, build_layers, json_schema
from h200cast.scenario.schema import STANCES

PARAMS = ROOT / "params"


def test_every_stance_has_a_file_and_every_file_validates() -> None:
    assert available(PARAMS, "stances") == sorted(STANCES)
    files = [
        PARAMS / "base.yaml",
        *sorted((PARAMS / "stances").glob("*.yaml")),
        *sorted((PARAMS / "paths").glob("*.yaml")),
    ]
    kinds = [check_file(f) for f in files]
    assert kinds[0] == "base" and kinds.count("stance") == 6 and "path" in kinds


def test_reported_path_is_there() -> None:
    sc = scenario(path="as_reported_2026_01", vintage="2026-01-31")
    assert [s.stance for s in sc.path.steps] == [
        "necessity_only",
        "customs_ban",
        "selective_approval",
    ]
    assert str(sc.path.steps[-1].start) == "2026-01-28"


def test_at_a_later_vintage_the_observed_months_come_first() -> None:
    # At 2026-04-30 the months to April follow the observed path; the stance asked for
    # holds from the origin (May) on, whatever the path or stance
    for sc in (scenario(stance="open_market"), scenario(path="as_reported_2026_01")):
        steps = [(str(s.start), s.stance) for s in sc.path.steps]
        assert steps[:3] == [
            ("2025-12-09", "necessity_only"),
            ("2026-01-07", "customs_ban"),
            ("2026-01-28", "selective_approval"),
        ]
        assert steps[3][0] == "2026-05-01" and len(steps) == 4
    assert scenario(stance="open_market").path.steps[3].stance == "open_market"
    assert scenario(stance="open_market").supply.production_stop_month == 2


@pytest.mark.parametrize("which", [*STANCES, "as_reported_2026_01"])
def test_every_input_cites_evidence_or_an_assumption(which: str) -> None:
    sc = scenario(**({"stance": which} if which in STANCES else {"path": which}))
    found = list(specs(sc))
    assert len(found) >= 25
    for key, spec in found:
        assert spec.evidence or (spec.assumption and len(spec.assumption) > 15), key


def test_schema_json_is_current() -> None:
    committed = json.loads((PARAMS / "schema.json").read_text())
    assert committed == json_schema(), (
        "params/schema.json is stale: run `h200cast params schema --write`"
    )


def test_schema_rejects_unknown_keys_everywhere() -> None:
    text = json.dumps(json_schema())
    assert text.count('"additionalProperties": false') >= 10


def test_merge_replaces_a_spec_whole_and_records_the_source() -> None:
    layers = Layers()
    layers.merge(
        {"a": {"p": {"dist": "triangular", "low": 1, "mode": 2, "high": 3, "unit": "u"}, "q": 1}},
        "base",
    )
    layers.merge({"a": {"p": {"dist": "uniform", "low": 0, "high": 4, "unit": "u"}}}, "top")
    assert layers.tree["a"]["p"] == {"dist": "uniform", "low": 0, "high": 4, "unit": "u"}
    assert layers.tree["a"]["q"] == 1
    assert layers.source_of(("a", "p", "low")) == "top"
    assert layers.source_of(("a", "q")) == "base"
    assert layers.source_of(("a", "p", "mode")) == "top"


def test_set_on_a_whole_parameter_makes_a_point_that_keeps_its_evidence() -> None:
    layers = build_layers(stance="open_market", overrides=["money.price_usd=30000"])
    p = layers.tree["money"]["price_usd"]
    assert p["value"] == 30000 and "dist" not in p and "L191" in p["evidence"]
    assert layers.source_of(("money", "price_usd")) == "--set"


def test_set_on_a_field_changes_only_that_field() -> None:
    sc = scenario(stance="open_market", overrides=("demand.order_book_units.mode=1500000",))
    assert sc.demand.order_book_units.mode == 1500000
    assert sc.demand.order_book_units.high == 2500000


def test_set_keys_are_the_json_key_paths(capsys: pytest.CaptureFixture[str]) -> None:
    from h200cast.cli import main

    assert main(["params", "show", "--stance", "selective_approval", "--json"]) == 0
    tree = json.loads(capsys.readouterr().out)
    leaves = dict(flatten(tree))
    assert "stances.selective_approval.approvals.initial_batch_units" in leaves
    # every numeric spec field can be set through its dotted key, and the run sees it
    sc = scenario(
        stance="selective_approval",
        overrides=("stances.selective_approval.approvals.initial_batch_units.high=450000",),
    )
    assert sc.stances["selective_approval"].approvals.initial_batch_units.high == 450000


@pytest.mark.parametrize(
    ("text", "keys", "value"),
    [
        ("a.b=1", ("a", "b"), 1),
        ("a.b=0.25", ("a", "b"), 0.25),
        ("a.b=null", ("a", "b"), None),
        ("a.b=lhs", ("a", "b"), "lhs"),
        ("a.b=2.5e6", ("a", "b"), 2.5e6),
    ],
)
def test_parse_override(text: str, keys: tuple, value: object) -> None:
    assert parse_override(text) == (keys, value)


@pytest.mark.parametrize("text", ["novalue", "=3", "a..b=1", "a.b=[1, 2]", "a.b={x: 1}"])
def test_parse_override_rejects(text: str) -> None:
    with pytest.raises(InputError):
        parse_override(text)


def test_override_cannot_invent_keys() -> None:
    layers = build_layers(stance="open_market")
    with pytest.raises(InputError, match="unknown key"):
        apply_override(layers, ("demand", "nope"), 1)
    with pytest.raises(InputError, match="unknown key"):
        apply_override(layers, ("nope", "x"), 1)


def test_base_yaml_values_sit_within_their_domains(tmp_path: Path) -> None:
    # a share set above 1 in a copied base file is refused, naming the file and key
    data = yaml.safe_load((PARAMS / "base.yaml").read_text())
    data["us"]["fee_rate"]["value"] = 1.25
    f = tmp_path / "base.yaml"
    f.write_text(yaml.safe_dump(data))
    # no estimates beside the copy: from_estimate reads the checkout's latest vintage
    with pytest.raises(InputError) as err:
        check_file(f)
    assert str(f) in err.value.render() and "us.fee_rate" in err.value.render()
    assert "[0, 1]" in err.value.render()


# --- numbers must be finite numbers as written: no NaN, infinity, true/false or text -------------


@pytest.mark.parametrize(
    ("setting", "shown"),
    [
        ("money.price_usd=.nan", "got nan"),
        ("money.price_usd=.inf", "got inf"),
        ("money.price_usd=-.inf", "got -inf"),
        ("money.price_usd.low=.nan", "got nan"),
        ("us.fee_rate=true", "got True"),
        ("us.fee_rate=off", "got False"),
        ('us.fee_rate="0.15"', "got '0.15'"),
        ("calendar.horizon_months=true", "got True"),
        ("calendar.horizon_months=24.0", "got 24.0"),
    ],
)
def test_set_refuses_non_finite_and_non_numbers(
    setting: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from h200cast.cli import main

    key = setting.split("=")[0]
    assert main(["run", "--stance", "open_market", "--point", "--json", "--set", setting]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err and err.count("\n") == 1
    assert f"--set: {key}" in err and shown in err, err
    assert ("whole number" if "horizon" in key else "expected a valid number") in err


@pytest.mark.parametrize(
    "setting",
    ["us.fee_rate=0.15", "us.fee_rate=0", "money.price_usd=2.5e4", "money.price_usd=30000"],
)
def test_set_still_takes_plain_numbers(setting: str) -> None:
    key, value = setting.split("=")
    sc = scenario(stance="open_market", overrides=(setting,))
    group, name = key.split(".")
    assert getattr(getattr(sc, group), name).value == float(value)


@pytest.mark.parametrize(
    ("written", "shown"),
    [(".nan", "got nan"), (".inf", "got inf"), ('"0.5"', "got '0.5'"), ("true", "got True")],
)
def test_params_check_refuses_non_finite_and_non_numbers(
    tmp_path: Path, written: str, shown: str
) -> None:
    shutil.copytree(PARAMS, tmp_path / "params")
    f = tmp_path / "params" / "base.yaml"
    text = f.read_text()
    assert "    value: 27000\n" in text
    f.write_text(text.replace("    value: 27000\n", f"    value: {written}\n", 1))
    with pytest.raises(InputError) as err:
        check_file(f)
    msg = err.value.render()
    assert msg.startswith(f"{f}: demand.reference_price_usd.value: {shown}: "), msg
    assert "expected a valid number" in msg


def test_a_transition_probability_must_be_a_number(tmp_path: Path) -> None:
    data = yaml.safe_load((PARAMS / "switching" / "from_2026_01_31.yaml").read_text())
    data["initial"] = {"selective_approval": True}
    f = tmp_path / "chain.yaml"
    f.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as err:
        check_file(f)
    assert f"{f}: initial.selective_approval: got True: expected a valid number" in str(err.value)


def test_an_estimate_file_with_a_nan_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(
        (PARAMS / "vintages" / "2026-01-31" / "estimates" / "demand_growth.yaml").read_text()
    )
    data["spec"]["mean"] = float("nan")
    f = tmp_path / "demand_growth.yaml"
    f.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as err:
        check_file(f)
    assert f"{f}: spec.mean: got nan: expected a valid number" in str(err.value)
