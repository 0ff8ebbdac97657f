"""Which `.glyph` file names a folder's project (cli/project.find): only one this user (or
root) owns, as git passes over a repository of dubious ownership. Real files in a temporary
folder; changing a file's owner needs root (as the CI machine runs), else the test is skipped."""

from __future__ import annotations

import os

import pytest

from cli.project import find

NOBODY = 65534


def write(folder, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".glyph"
    path.write_text(f"namespace = {name}\n")
    return str(path)


def test_a_glyph_file_of_your_own_names_the_project(tmp_path):
    path = write(tmp_path / "work", "shop")
    assert find(str(tmp_path / "work" / "src"), git=False) == ("shop", path)


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_glyph_file_another_user_owns_is_passed_over(tmp_path):
    """A shared folder (/tmp, a team drive) where another user dropped a `.glyph` file: below it
    your own file (or none) decides, never theirs."""
    mine = write(tmp_path / "shared", "mine")
    theirs = write(tmp_path / "shared" / "drop", "theirs")
    os.chown(theirs, NOBODY, NOBODY)
    assert find(str(tmp_path / "shared" / "drop" / "deep"), git=False) == ("mine", mine)
    os.chown(mine, NOBODY, NOBODY)
    assert find(str(tmp_path / "shared" / "drop"), git=False) is None
    os.chown(theirs, 0, 0)  # root's own file counts: only root could have written it
    assert find(str(tmp_path / "shared" / "drop"), git=False) == ("theirs", theirs)


def test_a_folder_named_glyph_is_no_project_file(tmp_path):
    (tmp_path / "a" / ".glyph").mkdir(parents=True)
    assert find(str(tmp_path / "a"), git=False) is None


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_glyph_symlink_counts_only_when_both_it_and_its_file_are_yours(tmp_path):
    """Whoever placed the `.glyph` entry chose it, whatever it points to: another user's symlink
    in a shared folder, pointing to a file you (or root) own that names a namespace, is passed
    over too; and your symlink to another user's file is theirs to change."""
    mine = write(tmp_path / "home" / "app", "mine")
    theirs = write(tmp_path / "elsewhere", "theirs")
    os.chown(theirs, NOBODY, NOBODY)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / ".glyph").symlink_to(mine)
    assert find(str(shared), git=False) == ("mine", str(shared / ".glyph"))  # yours, to your file
    os.lchown(shared / ".glyph", NOBODY, NOBODY)
    assert find(str(shared), git=False) is None  # theirs, to your file
    (shared / ".glyph").unlink()
    (shared / ".glyph").symlink_to(theirs)
    assert find(str(shared), git=False) is None  # yours, to their file


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="giving a file to another user needs root")
def test_under_sudo_the_glyph_file_of_the_user_who_ran_it_counts(tmp_path, monkeypatch):
    path = write(tmp_path / "repo", "mine")
    os.chown(path, NOBODY, NOBODY)
    monkeypatch.delenv("SUDO_UID", raising=False)
    assert find(str(tmp_path / "repo"), git=False) is None
    monkeypatch.setenv("SUDO_UID", str(NOBODY))  # `sudo glyph …` run by that user
    assert find(str(tmp_path / "repo"), git=False) == ("mine", path)
    monkeypatch.setenv("SUDO_UID", "not a number")
    assert find(str(tmp_path / "repo"), git=False) is None
