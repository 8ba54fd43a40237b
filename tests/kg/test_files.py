"""Derived files and folders are replaced whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.files import replacing_folder, write_text


def test_a_new_folder_takes_the_place_of_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.bin").write_text("old")
    with replacing_folder(target) as folder:
        assert folder.parent == tmp_path and folder != target
        (folder / "new.bin").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new.bin"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_failed_folder_leaves_the_old_one_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.bin").write_text("old")
    with pytest.raises(RuntimeError), replacing_folder(target) as folder:
        (folder / "half.bin").write_text("half")
        raise RuntimeError("conversion failed")
    assert [p.name for p in target.iterdir()] == ["old.bin"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_folder_is_made_where_none_was(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "lm" / "model"
    with replacing_folder(target) as folder:
        write_text(folder / "config.json", "{}")
    assert (target / "config.json").read_text() == "{}"
    assert oct(target.stat().st_mode & 0o777) == oct(0o755)
