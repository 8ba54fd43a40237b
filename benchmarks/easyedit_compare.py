"""Our ROME against EasyEdit's ROME (PyPI ``easyeditor``), in a throw-away venv, or why that cannot run.

The script never makes EasyEdit a dependency of kgedit. It:
1. creates a venv under --workdir and installs torch==2.13.0 there first (the CPU build this
   machine's wheel cache holds, so pip does not pull a CUDA build to satisfy EasyEdit's pin);
2. reads the requirements pinned by the newest ``easyeditor`` release on PyPI and checks, for each
   pin, whether a wheel exists for this Python (a source build of 2021-era numpy/scipy/pandas needs
   compilers and hours on a small CPU, and fails on Python 3.11);
3. installs ``easyeditor`` (time-limited) and, if that works, checks whether its pinned transformers
   can load the model at all (SmolLM2 uses grouped-query attention, which transformers added in
   4.31, and ships as GGUF, which transformers reads from 4.41 on);
It stops there. The side-by-side ROME run (same dev edits as ``bench_weights.py``) is not written,
because with the only published release (0.0.1.dev0, July 2023) step 3 cannot succeed on this
Python and model; EasyEdit's ROME would also need its Wikipedia statistics, which it downloads.

Every step that fails is printed with the exact command and the tail of its output, so the report
can say precisely why the comparison did not run.

    .venv/bin/python benchmarks/easyedit_compare.py --workdir /tmp/easyedit
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MODEL_ATTENTION = {"num_attention_heads": 9, "num_key_value_heads": 3}  # SmolLM2-135M: grouped-query


def run(cmd: list[str], timeout: int) -> tuple[int, str]:
    print("$", " ".join(cmd), flush=True)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return 124, out + f"\n[timed out after {timeout} s]"
    return done.returncode, done.stdout + done.stderr


def pinned_requirements(pip: Path, workdir: Path) -> list[str]:
    code, out = run([str(pip), "download", "easyeditor", "--no-deps", "-d", str(workdir / "wheel")], 300)
    if code != 0:
        print(out)
        return []
    wheel = next((workdir / "wheel").glob("easyeditor-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith("METADATA"))
        text = archive.read(meta).decode()
    print(f"{wheel.name} pins:")
    pins = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")]
    for pin in pins:
        print("   ", pin)
    return pins


def binary_available(pip: Path, pin: str, workdir: Path) -> bool:
    spec = pin.replace(" ", "")
    code, _ = run(
        [str(pip), "download", spec, "--no-deps", "--only-binary=:all:", "-d", str(workdir / "probe")], 300
    )
    return code == 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "kgedit-easyedit")
    parser.add_argument("--install-timeout", type=int, default=1800)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    venv = args.workdir / "venv"
    findings: dict[str, object] = {"python": sys.version.split()[0]}

    code, out = run([sys.executable, "-m", "venv", str(venv)], 300)
    if code != 0:
        print(out)
        sys.exit("could not create a venv")
    pip = venv / "bin" / "pip"
    code, out = run([str(pip), "install", "torch==2.13.0"], 1200)
    findings["torch==2.13.0"] = "installed" if code == 0 else f"failed: {out[-400:]}"

    pins = pinned_requirements(pip, args.workdir)
    no_wheel = [
        p
        for p in pins
        if p.split("==")[0].strip() in ("numpy", "scipy", "pandas", "scikit-learn", "tokenizers")
    ]
    findings["pins"] = pins
    findings["pins_without_wheel_for_this_python"] = [
        p for p in no_wheel if not binary_available(pip, p, args.workdir)
    ]

    code, out = run([str(pip), "install", "easyeditor"], args.install_timeout)
    findings["pip install easyeditor"] = (
        "installed" if code == 0 else f"failed (exit {code}): ...{out[-1500:]}"
    )
    if code == 0:
        probe = (
            "import transformers, json; from transformers import LlamaConfig; "
            f"c = LlamaConfig(**{MODEL_ATTENTION!r}); "
            "print(json.dumps({'transformers': transformers.__version__, "
            "'grouped_query_attention': hasattr(c, 'num_key_value_heads')}))"
        )
        code, out = run([str(venv / "bin" / "python"), "-c", probe], 300)
        findings["model support"] = out.strip()
    print(json.dumps(findings, indent=1))
    if code != 0 or "installed" not in str(findings.get("pip install easyeditor")):
        print(
            "EasyEdit's ROME could not be run here; see the failures above. Our figures: "
            "benchmarks/bench_weights.py --method rome"
        )


if __name__ == "__main__":
    main()
