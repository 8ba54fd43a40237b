"""The append-only log that makes an evaluation run resumable.

Every finished case is one JSON line, written and flushed before the next case starts, so a killed run
loses at most the case in flight. The first line holds the run's fingerprint (dataset, setting,
system, batches, sample); a later run with the same fingerprint skips what the log already holds,
and one with a different fingerprint refuses to mix its results in.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from kg.errors import InputError
from qa.metrics import CaseRecord

log = logging.getLogger(__name__)


class RunLog:
    def __init__(self, path: Path, fingerprint: dict[str, Any], fresh: bool = False) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.records: dict[tuple[str, str], CaseRecord] = {}
        self.batches: dict[tuple[str, int], dict[str, Any]] = {}
        if path.exists() and not fresh:
            self._read()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write_line({"type": "header", "fingerprint": fingerprint}, mode="w")

    def _read(self) -> None:
        lines = self.path.read_text(encoding="utf-8").splitlines()
        good = 0  # bytes of whole lines; lines are ASCII (json.dumps escapes the rest)
        for number, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                if number == len(lines):  # the line being written when the run was killed
                    log.warning("%s: dropping an unfinished last line", self.path)
                    break
                raise InputError(f"{self.path}, line {number}: not valid JSON; delete the folder or pass --fresh") from None
            if number == 1:
                if entry.get("type") != "header" or entry.get("fingerprint") != self.fingerprint:
                    raise InputError(
                        f"{self.path.parent} holds results of a different run (other data, setting, system, "
                        "batches or sample); pick another --out folder, or pass --fresh to start over"
                    )
            elif entry.get("type") == "case":
                record = CaseRecord.from_dict(entry["record"])
                self.records[(record.batch, record.case_id)] = record
            elif entry.get("type") == "batch":
                self.batches[(entry["batch"], entry["index"])] = entry
            good += len(line) + 1
        if good < len(self.path.read_bytes()):
            with self.path.open("r+b") as handle:
                handle.truncate(good)
        if self.records:
            log.info("resuming: %d case results already in %s", len(self.records), self.path)

    def done(self, batch: str, case_id: str) -> bool:
        return (batch, case_id) in self.records

    def add_case(self, record: CaseRecord) -> None:
        self.records[(record.batch, record.case_id)] = record
        self._write_line({"type": "case", "record": record.to_dict()})

    def add_batch(self, batch: str, index: int, timings: dict[str, float]) -> None:
        entry = {"type": "batch", "batch": batch, "index": index, **timings}
        self.batches[(batch, index)] = entry
        self._write_line(entry)

    def _write_line(self, entry: dict[str, Any], mode: str = "a") -> None:
        with self.path.open(mode, encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
