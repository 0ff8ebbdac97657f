"""A project's namespace, found from a directory (DESIGN §17; README "Projects").

A `.glyph` file in the directory or any directory above it names the project's namespace: a
line `namespace = NAME` (blank lines and what follows a # are ignored; NAME follows the
namespace pattern, names.NAMESPACE_PATTERN). It opts the directory in: `glyph context`,
`glyph recent`, `glyph write` and `glyph mcp` use that namespace when --ns is not given. A file
whose line names no namespace (`namespace = My App`) is an error (BadProjectFile), never skipped:
the commands stop on it; the hooks go on without a project and say why.

The SessionStart hook goes one step further: without a `.glyph` file, a git work tree's folder
name (the nearest directory above holding `.git`, a folder or a worktree's file), made to fit the
pattern, is the project. No process is started and nothing is read but the `.glyph` file: the
hook runs at every session start.

A `.glyph` file counts only when this user (or root) owns it (a symbolic link: it and its file):
one that another user put in a shared folder such as /tmp is passed over, as git passes over a
repository of dubious ownership.
"""

from __future__ import annotations

import os
import re

from glyphmemory import names

FILE_NAME = ".glyph"
_PATTERN = re.compile(names.NAMESPACE_PATTERN)
_NOT_ALLOWED = re.compile(r"[^a-z0-9._-]+")
_MAX_FILE_BYTES = 4096
# The longest path a system call takes (Linux's PATH_MAX; Windows' extended-length paths).
_MAX_PATH_CHARS = 32767 if os.name == "nt" else 4096


def fit_name(name: str) -> str | None:
    """A folder's name as a namespace: its compatibility decomposition (Unicode NFKD) without
    combining marks, so accented and full-width letters keep their base letter (`Café Crème` →
    `cafe-creme`, `Ｗｅｂ` → `web`), lower case, runs of other characters as one `-`, no leading
    `.`/`_`/`-`, at most 64 characters; None when nothing is left (a name only in another
    script, such as `日本語`: such a project names itself in a `.glyph` file)."""
    import unicodedata  # a built-in module (~0.3 ms), only when a work tree's name is used

    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    fitted = _NOT_ALLOWED.sub("-", plain.casefold()).lstrip("._-")[:64].rstrip("-")
    return fitted if _PATTERN.fullmatch(fitted) else None


class BadProjectFile(ValueError):
    """A `.glyph` file whose `namespace =` line names no namespace; str(): one line naming the
    file and the pattern. A path holding what cannot be printed (a line break, U+2028, ESC: a
    folder's name may) is shown as a Python literal, so it adds no line to the session's block."""

    def __init__(self, path: str, value: str):
        shown = path if path.isprintable() else repr(path)
        super().__init__(
            f"{shown}: namespace {value!r} does not match {names.NAMESPACE_PATTERN}; fix the file or pass --ns"
        )
        self.path = path


def read_file(path: str) -> str | None:
    """The namespace a `.glyph` file names, or None when it names none; BadProjectFile when its
    `namespace =` line names a value the pattern refuses. UTF-8,
    with or without a byte order mark (Windows Notepad writes one), or UTF-16 behind its byte
    order mark (Windows PowerShell 5's `>`); a `#` starts a comment, on its own line or after
    the name (no namespace holds one)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_FILE_BYTES)
    except OSError:
        return None
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
    text = raw.decode("utf-16" if utf16 else "utf-8-sig", errors="replace")
    for line in text.splitlines():
        key, sep, value = line.partition("#")[0].partition("=")
        if sep and key.strip() == "namespace":
            value = value.strip().strip("\"'")
            if not _PATTERN.fullmatch(value):
                raise BadProjectFile(path, value)
            return value
    return None


def _yours(path: str) -> bool:
    """`path` is a regular file owned by this user (or root): a `.glyph` file that someone else
    put in a folder others may write (/tmp, a shared drive) does not choose your namespace, as
    git refuses a repository of "dubious ownership". A symbolic link counts when both it (whoever
    placed it chose it, whatever it points to) and its file are. Under sudo, the user who ran it
    (SUDO_UID) counts too. Where there are no user ids (Windows), any regular file."""
    import stat

    try:
        info, entry = os.stat(path), os.lstat(path)
    except (OSError, ValueError):
        return False
    owner = getattr(os, "getuid", None)
    if owner is None:
        return stat.S_ISREG(info.st_mode)
    trusted = {owner(), 0}
    if owner() == 0 and (sudo := os.environ.get("SUDO_UID", "")).isdecimal():
        trusted.add(int(sudo))  # `sudo glyph …` in your own folder: yours still counts, as git does
    return stat.S_ISREG(info.st_mode) and {info.st_uid, entry.st_uid} <= trusted


def find(start: str, *, git: bool) -> tuple[str, str] | None:
    """(namespace, where it came from: the `.glyph` file's path or the work tree's folder) for a
    directory, or None. `git`: whether a git work tree's name counts (the hook's fallback).
    BadProjectFile from the nearest `.glyph` file naming a bad namespace (the lookup stops there)."""
    if len(start) > _MAX_PATH_CHARS:
        return None  # no real directory: and walking up a longer string costs its length squared
    try:
        here = os.path.abspath(start)
    except (OSError, ValueError):
        return None
    work_tree = None
    while True:
        candidate = os.path.join(here, FILE_NAME)
        if _yours(candidate):
            name = read_file(candidate)
            if name is not None:
                return name, candidate
        if git and work_tree is None and os.path.exists(os.path.join(here, ".git")):
            work_tree = here
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    if work_tree is not None and (name := fit_name(os.path.basename(work_tree))) is not None:
        return name, work_tree
    return None


def opted_in(start: str | None = None) -> str | None:
    """The namespace a `.glyph` file above `start` (default: the current directory) names;
    CliError (usage) when the nearest names a bad one."""
    try:
        found = find(start or os.getcwd(), git=False)
    except OSError:
        return None
    except BadProjectFile as exc:
        from .base import EXIT_USAGE, CliError

        raise CliError(str(exc), EXIT_USAGE) from None
    return found[0] if found else None
