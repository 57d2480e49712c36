"""Bad input: exit code 2, one line on stderr, no traceback, nothing written.

The contract (``h200cast.cli``): every problem with the user's input exits with code 2
and prints exactly one line, ``h200cast: error: FILE: KEY: got VALUE: message``, naming
the file (when there is one), the dotted key (when there is one) and what was expected.
No ``Traceback`` appears anywhere, and nothing is written: the ``--out`` folder does not
appear and no temporary folder is left beside it.

Each case corrupts a private copy of ``params/`` and passes it with ``--params-dir``.
Most cases call :func:`h200cast.cli.main` in-process; three also run as real processes.

Cases marked ``bug=`` are known violations of the contract in ``src/``: the parts of the
contract they do meet are asserted as usual; the part they miss (naming the file or the
key) is reported as an expected failure, and turns into a failure once the bug is fixed,
so that the marker gets removed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from h200cast.cli import main
from h200cast.scenario.schema import STANCES

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params"
PREFIX = "h200cast: error: "

# The paths of the copied parameter folder, as placeholders in the cases below.
BASE = "{P}/base.yaml"
PATH_FILE = "{P}/paths/as_reported_2026_01.yaml"
OPEN_MARKET = "{P}/stances/open_market.yaml"
CUSTOMS_BAN = "{P}/stances/customs_ban.yaml"


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No environment overrides leak in, and the working folder is an empty scratch folder."""
    monkeypatch.delenv("H200CAST_PARAMS", raising=False)
    monkeypatch.delenv("H200CAST_DATA", raising=False)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)


@pytest.fixture
def params_copy(tmp_path) -> Path:
    """A private copy of the committed params/ folder, for a case to corrupt."""
    dest = tmp_path / "params"
    shutil.copytree(PARAMS, dest)
    return dest


@pytest.fixture
def out_dir(tmp_path) -> Path:
    """``--out`` target inside an otherwise empty parent, so stray temp folders show."""
    parent = tmp_path / "outparent"
    parent.mkdir()
    return parent / "result"


# --- helpers -------------------------------------------------------------------------------


def replace_once(rel: str, old: str, new: str) -> Callable[[Path], int]:
    """An edit of the copied params: replace ``old`` by ``new`` once in file ``rel``.

    The edit returns the 1-based line number where ``old`` started, for messages that
    should point at a line.
    """

    def edit(p: Path) -> int:
        f = p / rel
        text = f.read_text(encoding="utf-8")
        assert text.count(old) >= 1, f"test setup: {old!r} not found in {rel}"
        line = text[: text.index(old)].count("\n") + 1
        f.write_text(text.replace(old, new, 1), encoding="utf-8")
        return line

    return edit


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@dataclass
class Case:
    """One bad input and what its message must say."""

    id: str
    args: list[str]
    edit: Callable[[Path], int] | None = None
    # Strings that must appear in the message ({P} is the copied params folder). When
    # a file and a key are both named, give them together ("FILE: KEY") so that the
    # order of the rendering is checked too.
    names: list[str] = field(default_factory=list)
    # Words of what was expected (or of what is wrong).
    expect: list[str] = field(default_factory=list)
    # The message points at the line of the edit (or the line after it).
    line: bool = False
    # `run` cases get --params-dir, --draws and --out added.
    out: bool = True
    # A known bug in src/: the message misses some of `names`.
    bug: str | None = None


RUN_OM = ["run", "--stance", "open_market"]
RUN_PATH = ["run", "--path", "as_reported_2026_01"]

CASES = [
    # 1. malformed YAML: an unclosed bracket
    Case(
        "malformed_yaml",
        RUN_OM,
        replace_once("base.yaml", "    evidence: [L178, L179]\n", "    evidence: [L178, L179\n"),
        names=[BASE + ": malformed YAML: line "],
        expect=["expected", "]"],
        line=True,
    ),
    # 2. duplicate key in a mapping
    Case(
        "duplicate_key",
        RUN_OM,
        replace_once(
            "base.yaml", "  horizon_months: 36\n", "  horizon_months: 36\n  horizon_months: 24\n"
        ),
        names=[BASE + ": ", "duplicate key 'horizon_months'"],
        expect=["malformed YAML", "duplicate"],
        line=True,
    ),
    # 3. unknown keys
    Case(
        "unknown_key_added",
        RUN_OM,
        replace_once("base.yaml", "demand:\n", "demand:\n  order_bok_units: 5\n"),
        names=[BASE + ": demand.order_bok_units: got 5"],
        expect=["unknown key", "schema"],
    ),
    Case(
        "unknown_key_misspelt",
        RUN_OM,
        replace_once("base.yaml", "  order_book_units:\n", "  order_bok_units:\n"),
        names=[BASE + ": demand.order_bok_units"],
        expect=["unknown key", "did you mean 'order_book_units'"],
    ),
    Case(
        "unknown_key_in_stance",
        ["run", "--stance", "customs_ban"],
        replace_once("stances/customs_ban.yaml", "permitted_share:", "permited_share:"),
        names=[CUSTOMS_BAN + ": stances.customs_ban.permited_share"],
        expect=["unknown key"],
    ),
    # 4. unknown stance and path: the known ones are listed
    Case(
        "unknown_stance",
        ["run", "--stance", "nonesuch"],
        names=["stance: got 'nonesuch'"],
        expect=["unknown stance", "expected one of", *STANCES],
    ),
    Case(
        "unknown_path",
        ["run", "--path", "nonesuch"],
        names=["{P}/paths/nonesuch.yaml: path: got 'nonesuch'"],
        expect=["unknown path", "expected one of", "as_reported_2026_01"],
    ),
    Case(
        "unknown_stance_in_path_step",
        RUN_PATH,
        replace_once(
            "paths/as_reported_2026_01.yaml", "stance: customs_ban", "stance: customs_bam"
        ),
        names=[PATH_FILE + ": path.steps.1.stance: got 'customs_bam'"],
        expect=["customs_ban", "open_market"],
    ),
    # 5. wrong type
    Case(
        "wrong_type",
        RUN_OM,
        replace_once("base.yaml", "    low: 1000000\n", "    low: lots\n"),
        names=[BASE + ": demand.order_book_units.low: got 'lots'"],
        expect=["valid number"],
    ),
    # 6. a share outside [0, 1]
    Case(
        "share_in_file",
        RUN_OM,
        replace_once("base.yaml", "    high: 0.95\n", "    high: 1.5\n"),
        names=[BASE + ": demand.backlog_persistence"],
        expect=["expected a share in [0, 1]", "high=1.5"],
    ),
    Case(
        "share_via_set",
        [*RUN_OM, "--set", "demand.backlog_persistence=1.5"],
        names=["--set: demand.backlog_persistence"],
        expect=["expected a share in [0, 1]", "1.5"],
    ),
    Case(
        "share_via_set_on_spec_field",
        [*RUN_OM, "--set", "demand.backlog_persistence.high=1.5"],
        names=["--set: demand.backlog_persistence"],
        expect=["expected a share in [0, 1]", "high=1.5"],
    ),
    # 7. negative price and volume
    Case(
        "negative_price_in_file",
        RUN_OM,
        replace_once("base.yaml", "    low: 20000\n", "    low: -5\n"),
        names=[BASE + ": money.price_usd"],
        expect=["expected a value > 0", "low=-5"],
    ),
    Case(
        "negative_volume_via_set",
        [*RUN_OM, "--set", "supply.inventory_units=-1"],
        names=["--set: supply.inventory_units"],
        expect=["expected a value >= 0", "-1"],
    ),
    # 8. low above high
    Case(
        "low_above_high_triangular",
        RUN_OM,
        replace_once("base.yaml", "    low: 0.27\n", "    low: 0.6\n"),
        names=[BASE + ": domestic.share_at_reference"],
        expect=["expected low <= mode <= high", "low=0.6"],
    ),
    Case(
        "low_above_high_uniform",
        RUN_OM,
        replace_once(
            "base.yaml",
            "    value: 0\n    unit: units\n    evidence: [L207, L210]\n",
            "    dist: uniform\n    low: 5000000\n    high: 3000000\n"
            "    unit: units\n    evidence: [L207, L210]\n",
        ),
        names=[BASE + ": us.us_cumulative_units_before"],
        expect=["expected low <= high", "low=5000000"],
    ),
    # 9. missing files
    Case(
        "missing_file_params_check",
        ["params", "check", "{T}/missing.yaml"],
        names=["{T}/missing.yaml: "],
        expect=["file not found"],
        out=False,
    ),
    Case(
        "empty_params_dir",
        [*RUN_OM, "--params-dir", "{T}/empty"],
        names=["{T}/empty/base.yaml: "],
        expect=["file not found"],
    ),
    # 10. bad --set
    Case(
        "unknown_set_key",
        [*RUN_OM, "--set", "demand.nope=1"],
        names=["--set: demand.nope"],
        expect=["unknown key 'nope'", "expected one of", "backlog_persistence"],
    ),
    Case(
        "malformed_set",
        [*RUN_OM, "--set", "novalue"],
        names=["--set: got 'novalue'"],
        expect=["expected KEY=VALUE"],
    ),
    # 11. unknown evidence ids, in base, a stance and a path step
    Case(
        "unknown_evidence_in_base",
        RUN_OM,
        replace_once("base.yaml", "    evidence: [L178, L179]\n", "    evidence: [L178, L999]\n"),
        names=[BASE + ": demand.order_delivery_months.evidence: got ['L999']"],
        expect=["not in data/evidence/facts.csv"],
    ),
    Case(
        "unknown_evidence_in_stance",
        RUN_OM,
        replace_once("stances/open_market.yaml", "[L011, L033, L036]", "[L011, L999]"),
        names=[OPEN_MARKET + ": stances.open_market.substitution_push.evidence: got ['L999']"],
        expect=["not in data/evidence/facts.csv"],
    ),
    Case(
        "unknown_evidence_in_path_step",
        RUN_PATH,
        replace_once("paths/as_reported_2026_01.yaml", "evidence: [L147]", "evidence: [L999]"),
        names=[PATH_FILE + ": path.steps.0.evidence: got ['L999']"],
        expect=["not in data/evidence/facts.csv"],
    ),
    # 12. a stance file whose name does not match its file name
    Case(
        "stance_name_mismatch_check",
        ["params", "check", OPEN_MARKET],
        replace_once("stances/open_market.yaml", "name: open_market", "name: customs_ban"),
        names=[OPEN_MARKET + ": name: got 'customs_ban'"],
        expect=["expected the name to match the file name 'open_market'"],
        out=False,
    ),
    Case(
        "stance_name_mismatch_run",
        RUN_OM,
        replace_once("stances/open_market.yaml", "name: open_market", "name: customs_ban"),
        names=[OPEN_MARKET + ": ", "name"],
        expect=["open_market", "customs_ban"],
    ),
    # 13. path steps out of date order
    Case(
        "path_steps_out_of_order_run",
        RUN_PATH,
        replace_once("paths/as_reported_2026_01.yaml", "start: 2026-01-07", "start: 2026-02-07"),
        names=[PATH_FILE + ": path.steps"],
        expect=["strictly increasing start dates", "2026-02-07"],
    ),
    Case(
        "path_steps_out_of_order_check",
        ["params", "check", PATH_FILE],
        replace_once("paths/as_reported_2026_01.yaml", "start: 2026-01-07", "start: 2026-02-07"),
        names=[PATH_FILE + ": steps"],
        expect=["strictly increasing start dates", "2026-02-07"],
        out=False,
    ),
]

BY_ID = {c.id: c for c in CASES}
SUBPROCESS_CASES = ["malformed_yaml", "share_via_set", "unknown_path"]


def prepare(case: Case, params: Path, out: Path, tmp: Path) -> tuple[list[str], int | None]:
    """Apply the case's edit; return the CLI arguments and the edited line (if any)."""
    line = case.edit(params) if case.edit else None
    (tmp / "empty").mkdir(exist_ok=True)

    def fill(s: str) -> str:
        return s.replace("{P}", str(params)).replace("{T}", str(tmp))

    args = [fill(a) for a in case.args]
    if case.out:
        if "--params-dir" not in args:
            args += ["--params-dir", str(params)]
        args += ["--draws", "3", "--out", str(out)]
    return args, line


def check_message(case: Case, out: str, err: str, line: int | None, params: Path, tmp: Path):
    """The parts of the contract every case must meet, then the naming (maybe a known bug)."""
    both = out + err
    assert "Traceback" not in both, both
    assert out == "", f"nothing should go to stdout on an error, got {out!r}"
    assert err.startswith(PREFIX), err
    assert err.endswith("\n") and err.count("\n") == 1, f"expected exactly one line, got {err!r}"
    msg = err.removeprefix(PREFIX).rstrip("\n")
    for word in case.expect:
        assert word in msg, f"{word!r} not in {msg!r}"
    if case.line:
        m = re.search(r"\bline (\d+)\b", msg)
        assert m, f"no line number in {msg!r}"
        assert line is not None and int(m.group(1)) in (line, line + 1), (line, msg)

    names = [n.replace("{P}", str(params)).replace("{T}", str(tmp)) for n in case.names]
    missing = [n for n in names if n not in msg]
    if case.bug:
        if missing:
            pytest.xfail(f"known bug in src/: {case.bug}")
        pytest.fail(f"the known bug looks fixed, drop `bug=` from case {case.id!r}: {case.bug}")
    assert not missing, f"{missing} not named in {msg!r}"


def check_nothing_written(out: Path, params: Path, before: dict[str, bytes], cwd: Path):
    assert not out.exists(), f"{out} was written"
    assert list(out.parent.iterdir()) == [], f"left behind: {list(out.parent.iterdir())}"
    assert snapshot(params) == before, "the parameter folder was changed"
    assert list(cwd.iterdir()) == [], f"written to the working folder: {list(cwd.iterdir())}"


# --- the corpus, in-process -----------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_in_process(case, params_copy, out_dir, tmp_path, capsys):
    args, line = prepare(case, params_copy, out_dir, tmp_path)
    before = snapshot(params_copy)
    capsys.readouterr()

    rc = main(args)

    out, err = capsys.readouterr()
    assert rc == 2, (rc, out, err)
    check_nothing_written(out_dir, params_copy, before, Path.cwd())
    check_message(case, out, err, line, params_copy, tmp_path)


# --- three cases as real processes ----------------------------------------------------------


def cli_command() -> list[str]:
    """``python -m h200cast`` once ``h200cast/__main__.py`` exists; until then, ``-c``."""
    if importlib.util.find_spec("h200cast.__main__") is not None:
        return [sys.executable, "-m", "h200cast"]
    return [sys.executable, "-c", "import sys; from h200cast.cli import main; sys.exit(main())"]


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_bad_input_subprocess(case_id, params_copy, out_dir, tmp_path):
    case = BY_ID[case_id]
    args, line = prepare(case, params_copy, out_dir, tmp_path)
    before = snapshot(params_copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith("H200CAST_")}
    env["PYTHONIOENCODING"] = "utf-8"
    cwd = Path.cwd()

    proc = subprocess.run(
        [*cli_command(), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )

    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    check_nothing_written(out_dir, params_copy, before, cwd)
    check_message(case, proc.stdout, proc.stderr, line, params_copy, tmp_path)


def test_subprocess_known_good_exits_0(params_copy, tmp_path):
    """The process route itself works: a good command exits 0 (so exit 2 above means something)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("H200CAST_")}
    proc = subprocess.run(
        [*cli_command(), "params", "check", str(params_copy / "base.yaml")],
        capture_output=True,
        text=True,
        cwd=Path.cwd(),
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok  "), proc.stdout
    assert proc.stderr == ""


# --- argparse usage errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--draws", "0"], "expected a number >= 1"),
        (["--draws", "abc"], "expected a whole number"),
        (["--seed", "-1"], "expected a seed >= 0"),
        (["--stance", "open_market", "--path", "as_reported_2026_01"], "not allowed with"),
    ],
    ids=["draws_0", "draws_abc", "seed_negative", "stance_and_path"],
)
def test_usage_errors_exit_2(extra, expected, params_copy, out_dir, capsys):
    args = ["run", "--params-dir", str(params_copy), "--out", str(out_dir)]
    if "--stance" not in extra:
        args += ["--stance", "open_market"]
    with pytest.raises(SystemExit) as exc:
        main([*args, *extra])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "h200cast run: error:" in err
    assert expected in err
    assert not out_dir.exists()
    assert list(out_dir.parent.iterdir()) == []


def test_usage_error_missing_stance_or_path(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run"])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "one of the arguments --stance --path --switching is required" in err


# --- the fixture is sound -------------------------------------------------------------------------


def test_known_good_run_with_copied_params_exits_0(params_copy, out_dir, capsys):
    rc = main(
        [
            *("run", "--stance", "open_market", "--params-dir", str(params_copy)),
            *("--draws", "3", "--out", str(out_dir)),
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert err == ""
    assert "stance open_market" in out
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "manifest.json",
        "paths.parquet",
        "scenario.yaml",
        "summary.csv",
    ]
    assert [p.name for p in out_dir.parent.iterdir()] == ["result"], "temporary folder left behind"


def test_known_good_path_with_copied_params_exits_0(params_copy, capsys):
    rc = main(
        [
            *("run", "--path", "as_reported_2026_01", "--params-dir", str(params_copy)),
            *("--point", "--json"),
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert '"path": "as_reported_2026_01"' in out


def test_every_copied_params_file_checks_ok(params_copy, capsys):
    files = sorted(str(p) for p in params_copy.rglob("*.yaml"))
    assert len(files) >= 8
    rc = main(["params", "check", *files])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert out.count("\n") == len(files)
    assert all(line.startswith("ok  ") for line in out.splitlines())


# --- bad --out targets: refused, and nothing at the target is touched -------------------------


def _run_to(out: str, params: Path) -> list[str]:
    return [*RUN_OM, "--params-dir", str(params), "--draws", "3", "--out", out]


def _refused(args: list[str], capsys, *words: str) -> str:
    capsys.readouterr()
    rc = main(args)
    out, err = capsys.readouterr()
    assert rc == 2, (rc, out, err)
    assert out == "" and "Traceback" not in err
    assert err.startswith(PREFIX) and err.count("\n") == 1, err
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"
    return err


def test_out_refuses_a_folder_of_other_files(tmp_path, params_copy, capsys):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.tex").write_text("years of work")
    (target / "sub").mkdir()
    (target / "sub" / "data.csv").write_text("1,2\n")
    before = snapshot(target)

    _refused(_run_to(str(target), params_copy), capsys, f"--out: got '{target}'", "other files")

    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["cwd", "mine", "params"]), (
        "temporary folder left behind"
    )


def test_out_refuses_a_folder_whose_manifest_is_not_ours(tmp_path, params_copy, capsys):
    target = tmp_path / "other"
    target.mkdir()
    (target / "manifest.json").write_text('{"package": "someone-else"}\n')
    _refused(_run_to(str(target), params_copy), capsys, "--out", "other files")
    assert (target / "manifest.json").read_text() == '{"package": "someone-else"}\n'


def test_out_refuses_a_regular_file(tmp_path, params_copy, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    _refused(_run_to(str(target), params_copy), capsys, f"--out: got '{target}'", "regular file")
    assert target.is_file() and target.read_text() == "keep me"


def test_out_refuses_special_files_and_links_to_devices(tmp_path, params_copy, capsys):
    # Never aim a test at /dev/null itself: the bug this guards against replaced it (as root).
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    _refused(_run_to(str(fifo), params_copy), capsys, f"--out: got '{fifo}'", "named pipe")
    assert fifo.is_fifo()
    link = tmp_path / "link"
    link.symlink_to("/dev/null")
    _refused(_run_to(str(link), params_copy), capsys, f"--out: got '{link}'", "not a folder")
    assert link.is_symlink() and Path("/dev/null").is_char_device()


@pytest.mark.parametrize("where", [".", "..", "/"])
def test_out_refuses_the_current_folder_and_those_above(where, params_copy, capsys):
    cwd = Path.cwd()
    (cwd / "keep.txt").write_text("x")
    _refused(_run_to(where, params_copy), capsys, f"--out: got '{where}'", "current folder")
    assert [p.name for p in cwd.iterdir()] == ["keep.txt"]


def test_out_under_a_regular_file_is_an_input_error(tmp_path, params_copy, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for target in (blocker / "x", blocker / "x" / "y"):
        _refused(_run_to(str(target), params_copy), capsys, f"--out: got '{target}'", "cannot")
    assert blocker.read_text() == "x"


def test_out_where_the_system_refuses_is_an_input_error(params_copy, capsys):
    _refused(_run_to("/proc/h200cast-out", params_copy), capsys, "--out: got '/proc/h200cast-out'")


def test_out_in_a_new_nested_folder_and_over_its_own_output(tmp_path, params_copy, capsys):
    """What is allowed still works: new parents are made; an earlier output is replaced whole."""
    target = tmp_path / "new" / "deeper" / "run"
    assert main(_run_to(str(target), params_copy)) == 0
    (target / "stale.txt").write_text("from an earlier version")
    assert main(_run_to(str(target), params_copy)) == 0
    assert sorted(p.name for p in target.iterdir()) == [
        "manifest.json",
        "paths.parquet",
        "scenario.yaml",
        "summary.csv",
    ]
    assert [p.name for p in target.parent.iterdir()] == ["run"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(_run_to(str(empty), params_copy)) == 0
    assert (empty / "manifest.json").is_file()


def test_a_failed_write_removes_the_parents_it_made(tmp_path):
    from h200cast.io.atomic import atomic_dir

    target = tmp_path / "a" / "b" / "out"
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("disk full")
    assert [p.name for p in tmp_path.iterdir()] == ["cwd"]  # no a/b/, no temporary folder


@pytest.mark.parametrize("draws", [0, -5, 2.5, True, "100"])
def test_run_refuses_draws_that_are_not_a_positive_whole_number(draws: object) -> None:
    # Notebooks pass their parameters cell straight to results.run (papermill -p draws 0).
    from h200cast.api import run
    from h200cast.errors import InputError

    with pytest.raises(InputError, match="expected a whole number >= 1") as err:
        run(stance="open_market", draws=draws)  # type: ignore[arg-type]
    assert err.value.render().startswith("draws: got")
