"""Show that the comparisons with committed goldens are portable between CPUs.

    make env && .venv/bin/python tests/portable_goldens.py [--keep]

numpy picks SIMD kernels at run time (AVX-512, AVX2 or its baseline on x86-64; NEON and
its extensions on arm64), and OpenBLAS picks kernels for the CPU, so the last bits of
float results differ between machines. This script makes goldens as another machine
would and checks that this checkout's golden comparisons still pass:

1. It copies the checkout (the files git tracks or would, uncommitted changes included)
   twice into a temporary folder and regenerates the goldens in each copy with
   ``h200cast notebooks --refresh`` and then ``h200cast estimate``: in ``here`` as this
   machine is, in ``other`` with ``NPY_DISABLE_CPU_FEATURES`` set to every SIMD feature
   numpy dispatches to above its baseline on this CPU (numpy refuses to disable the
   baseline) and ``OPENBLAS_CORETYPE`` set to an older core.
2. It counts the files and outputs that differ in bytes between the committed goldens,
   ``here`` and ``other``, and how far their numbers are apart (as a share of the
   tolerance of ``goldens.py``).
3. It runs this checkout's golden comparisons, here, at this machine's own setting,
   against the committed goldens and the ``other`` ones: ``test_outputs_match_the_committed_run``
   (``H200CAST_GOLDENS``), nbval on the ``other`` notebooks and ``h200cast estimate --check``
   against the ``other`` estimates.

It exits 0 when every comparison passes. It takes 2-4 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from goldens import ABS, REL, text_differences, tolerance_used  # noqa: E402

# Settings of this shell that would change what the children compute or read.
CLEARED = (
    "NPY_DISABLE_CPU_FEATURES",
    "NPY_ENABLE_CPU_FEATURES",
    "OPENBLAS_CORETYPE",
    "PYTHONPATH",
    "H200CAST_PARAMS",
    "H200CAST_DATA",
    "H200CAST_GOLDENS",
)
OLDER_BLAS_CORE = {"x86_64": "Nehalem", "amd64": "Nehalem", "aarch64": "ARMV8", "arm64": "ARMV8"}
"""An OpenBLAS core type that this CPU can run but is not (SSE4.2 without AVX; plain ARMv8)."""

FEATURES = """
try:
    from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__
except ImportError:  # numpy 1.x
    from numpy.core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__
import json, numpy
print(json.dumps({
    "numpy": numpy.__version__,
    "baseline": __cpu_baseline__,
    "dispatched": [f for f in __cpu_dispatch__ if __cpu_features__.get(f)],
}))
"""


def child_env(checkout: Path, **extra: str) -> dict[str, str]:
    """The environment for commands run in ``checkout``: its own Jupyter folders, its package."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(
        JUPYTER_CONFIG_DIR=str(checkout / ".jupyter" / "config"),
        JUPYTER_DATA_DIR=str(checkout / ".jupyter" / "data"),
        JUPYTER_RUNTIME_DIR=str(checkout / ".jupyter" / "runtime"),
        IPYTHONDIR=str(checkout / ".ipython"),
        H200CAST_STATIC_CHARTS="1",
    )
    if checkout != ROOT:
        # the venv has this checkout installed in editable mode: put the copy's package first
        # (params, data and notebooks are found next to the package)
        env["PYTHONPATH"] = str(checkout / "src")
    env.update(extra)
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def must(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = run(cmd, cwd, env)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)} (in {cwd})\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def copy_checkout(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def outputs(notebook: Path) -> list[str]:
    """Every text or image of every code cell's outputs, in order."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    texts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            for value in [out.get("text"), *out.get("data", {}).values()]:
                if value is not None:
                    texts.append("".join(value) if isinstance(value, list) else str(value))
    return texts


def compare(a: Path, b: Path) -> dict[str, object]:
    """Byte-level and portable differences between the goldens of two checkouts."""
    notebooks = sorted((a / "notebooks").glob("*.ipynb"))
    estimates = sorted((a / "params").glob("vintages/*/estimates/*.yaml"))
    differ = [  # notebook names, estimate files as vintage/name
        f.name if f.suffix == ".ipynb" else f"{f.parents[1].name}/{f.name}"
        for f in [*notebooks, *estimates]
        if f.read_bytes() != (b / f.relative_to(a)).read_bytes()
    ]
    texts, changed = 0, []  # every output of every notebook, then each estimate file whole
    for f in notebooks:
        x, y = outputs(f), outputs(b / f.relative_to(a))
        texts += len(x)
        if len(x) != len(y):
            changed.append(("\n".join(x), f"{len(y)} outputs"))  # counted as beyond
            continue
        changed += [(u, v) for u, v in zip(x, y, strict=True) if u != v]
    n_outputs = len(changed)
    changed += [(f.read_text(), (b / f.relative_to(a)).read_text()) for f in estimates]
    changed = [(u, v) for u, v in changed if u != v]
    n_notebooks = sum(f.name in differ for f in notebooks)
    n_estimates = sum(f"{f.parents[1].name}/{f.name}" in differ for f in estimates)
    return {
        "notebooks": n_notebooks,
        "row": f"{f'{n_notebooks} of {len(notebooks)}':>10} {f'{n_estimates} of {len(estimates)}':>10} "
        f"{f'{n_outputs} of {texts}':>10} "
        f"{sum(bool(text_differences(u, v)) for u, v in changed):>7} "
        f"{max((tolerance_used(u, v) for u, v in changed), default=0.0):>9.2g}  "
        + (", ".join(differ) or "-"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies")
    parser.add_argument(
        "--blas-coretype",
        default=OLDER_BLAS_CORE.get(platform.machine().lower(), ""),
        help="OPENBLAS_CORETYPE for the other goldens ('' leaves BLAS alone; default: %(default)s)",
    )
    args = parser.parse_args()
    py = sys.executable

    native = json.loads(must([py, "-c", FEATURES], ROOT, child_env(ROOT)))
    disable = " ".join(native["dispatched"])
    other_setting = {"NPY_DISABLE_CPU_FEATURES": disable} if disable else {}
    if args.blas_coretype:
        other_setting["OPENBLAS_CORETYPE"] = args.blas_coretype
    check = json.loads(must([py, "-c", FEATURES], ROOT, child_env(ROOT, **other_setting)))
    print(
        f"numpy {native['numpy']} on {platform.machine()} ({platform.system()}), Python "
        f"{platform.python_version()}: SIMD baseline {' '.join(native['baseline'])}; "
        f"dispatched to here: {disable or 'nothing above the baseline'}"
    )
    print(
        "other setting: "
        + (" ".join(f'{k}="{v}"' for k, v in other_setting.items()) or "none")
        + f" (numpy then dispatches to: {' '.join(check['dispatched']) or 'the baseline only'})"
    )
    if not disable:
        print("  (this CPU has no SIMD features above numpy's baseline: only BLAS can differ)")

    work = Path(tempfile.mkdtemp(prefix="portable-goldens.")).resolve()
    print(f"work folder: {work}" + ("" if args.keep else " (removed at the end; --keep keeps it)"))
    failed = []
    try:
        print("\n1. goldens regenerated in two copies of the checkout")
        for name, setting in (("here", {}), ("other", other_setting)):
            copy = work / name
            copy_checkout(copy)
            env = child_env(copy, **setting)
            where = must([py, "-c", "import h200cast; print(h200cast.__file__)"], copy, env)
            if not Path(where.strip()).resolve().is_relative_to(copy):
                sys.exit(f"the copy imports h200cast from {where.strip()}, not from {copy}")
            start = time.monotonic()
            must([py, "-m", "h200cast", "notebooks", "--refresh", "--quiet"], copy, env)
            must([py, "-m", "h200cast", "estimate"], copy, env)
            print(
                f"   {name:6} ({'this machine as it is' if not setting else 'the other setting'}): "
                f"h200cast notebooks --refresh; h200cast estimate ({time.monotonic() - start:.0f} s)"
            )

        print(
            "\n2. differences between the goldens: notebook and estimate files that differ in"
            "\n   bytes; outputs (texts and charts) that differ in bytes; outputs and files beyond"
            f"\n   the tolerance (rel {REL} / abs {ABS} per number); the largest difference of a"
            "\n   number as a share of that tolerance"
        )
        note = ""
        sets = {"committed": ROOT, "here": work / "here", "other": work / "other"}
        print(
            f"   {'':22} {'notebooks':>10} {'estimates':>10} {'outputs':>10} {'beyond':>7} "
            f"{'largest':>9}  files"
        )
        for a, b in (("committed", "here"), ("other", "here"), ("other", "committed")):
            c = compare(sets[a], sets[b])
            print(f"   {a + ' vs ' + b:22} {c['row']}")
            if (a, b) == ("other", "here") and not c["notebooks"]:
                note = "   (the notebooks come out the same without those SIMD kernels on this CPU)"
        if note:
            print(note)

        print("\n3. this checkout's golden comparisons, run here, against those goldens")
        env = child_env(ROOT)
        goldens = os.pathsep.join(str(p / "notebooks") for p in (ROOT, work / "other"))
        pytest = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        nbval = ["--nbval-lax", "--nbval-current-env", "--nbval-sanitize-with"]
        checks = [
            (
                "test_outputs_match_the_committed_run, H200CAST_GOLDENS=committed:other",
                [*pytest, "tests/views/test_notebooks.py", "-k", "committed_run"],
                {"H200CAST_GOLDENS": goldens},
            ),
            (
                "nbval on the other notebooks (the checked summary cells)",
                [*pytest, str(work / "other" / "notebooks"), *nbval, "tests/nbval_sanitize.cfg"],
                {},
            ),
            (
                "h200cast estimate --check against the other estimates",
                [py, "-m", "h200cast", "estimate", "--check"],
                {"H200CAST_PARAMS": str(work / "other" / "params")},
            ),
        ]
        for title, cmd, extra in checks:
            start = time.monotonic()
            done = run(cmd, ROOT, {**env, **extra})
            lines = done.stdout.strip().splitlines() or ["(no output)"]
            # pytest's summary line, or each line of the CLI's without folders
            last = (
                lines[-1] if "pytest" in cmd else "; ".join(re.sub(r"\S*/", "", x) for x in lines)
            )
            status = "ok" if done.returncode == 0 else "FAILED"
            print(f"   {status:6} {title}: {last} ({time.monotonic() - start:.0f} s)")
            if done.returncode != 0:
                failed.append(title)
                print(done.stdout[-4000:] + done.stderr[-2000:])
    finally:
        if args.keep:
            print(f"\nkept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(
        "\nresult: "
        + (f"FAILED: {'; '.join(failed)}" if failed else "every golden comparison passes")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
