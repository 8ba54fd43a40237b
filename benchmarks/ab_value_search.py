"""The value search before and after the context cache, in one process, on the same dev edits.

The old search lives only in git history; write it out and name it:

    git show 28f1a80:editors/locate.py > /tmp/old_locate.py
    .venv/bin/python benchmarks/ab_value_search.py /tmp/old_locate.py --edits 2,3,4 --steps 8

Both run a fixed number of steps (no early stop) on ROME's layer, so CPU seconds compare like for
like; the relative difference of the two δ shows they compute the same thing.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_weights import dev_store  # noqa: E402
from editors import values  # noqa: E402
from editors.arch import ModelLayout  # noqa: E402
from editors.lm import load_lm  # noqa: E402
from editors.locate import context_prefixes  # noqa: E402
from editors.methods import DEFAULT_LM  # noqa: E402
from editors.requests import requests_from_store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("old", type=Path, help="the old editors/locate.py, written out of git")
    parser.add_argument("--edits", default="2,3,4", help="1-based positions in the dev edit list")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("KGEDIT_HOME", "~/.kgedit")).expanduser() / "cache"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    spec = importlib.util.spec_from_file_location("old_locate", args.old)
    assert spec is not None and spec.loader is not None
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    requests = requests_from_store(dev_store())
    lm = load_lm(DEFAULT_LM, cache_dir=args.cache)
    layout = ModelLayout.of(lm.model)
    module = layout.mlp_out(lm.model, layout.rome_layer())
    prefixes = context_prefixes(lm.model, lm.tokenizer, 5, 10, 0)
    for position in (int(x) for x in args.edits.split(",")):
        request = requests[position - 1]
        start = time.process_time()
        new = values.optimise_values(
            lm.model,
            lm.tokenizer,
            module,
            [request],
            prefixes,
            values.ValueSearch(steps=args.steps, stop_loss=0.0),
        )
        new_s = time.process_time() - start
        start = time.process_time()
        _, old_delta = old.optimise_values(
            lm.model,
            lm.tokenizer,
            module,
            [request],
            prefixes,
            old.ValueSearch(steps=args.steps, stop_loss=0.0),
        )
        old_s = time.process_time() - start
        diff = float((new.delta - old_delta).norm() / old_delta.norm())
        print(
            f"{request.edit_id}: CPU s old {old_s:.2f} new {new_s:.2f} ({old_s / new_s:.1f}x), δ rel. diff {diff:.1e}"
        )


if __name__ == "__main__":
    main()
