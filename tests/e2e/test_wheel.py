"""The product as users get it: the wheel that `pip install .` builds, installed (not editable)
into a fresh venv, runs the README's terminal flow and serves every file its page asks for."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx
import pytest

from ..support.processes import clean_env, start_glyph_serve, stop

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Where each folder of the tree lands in the wheel (pyproject.toml's package-dir).
SHIPPED = {"src/glyphmemory": "glyphmemory", "cli": "glyph_cli", "skills": "glyph_cli/plugin"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The wheel, built as pip builds it for `pip install .` (isolated, from the local indexes),
    from a copy of the tree: a build/ folder left by an earlier build would hide what is missing."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in SHIPPED:
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("glyphmemory-*.whl")
    return wheel, result.stdout + result.stderr


@pytest.fixture(scope="module")
def venv(built, tmp_path_factory):
    """A fresh venv holding the wheel; its dependencies come from this venv's site-packages, after
    its own (so the wheel's glyphmemory is the one imported, never this checkout's)."""
    wheel, _ = built
    path = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    python = path / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], capture_output=True, text=True
    ).stdout.strip()
    Path(site, "zz_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return path


def tree_files() -> set[str]:
    """Every file of the shipped folders, named as in the wheel."""
    files = set()
    for folder, package in SHIPPED.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files.add(f"{package}/{path.relative_to(ROOT / folder).as_posix()}")
    return files


def test_the_wheel_ships_every_file_of_the_tree_and_the_build_warns_of_nothing(built):
    wheel, log = built
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(tree_files() - names)
    assert not missing, f"the wheel lacks {missing}"
    assert "glyphmemory/templates/app.js" in names
    # `make run`'s first lines: no setuptools warning about folders left out of `packages`.
    assert "BuildBackendWarning" not in log and "absent from the `packages` configuration" not in log


def test_the_installed_glyph_runs_the_readme_flow_and_serves_its_page(venv, tmp_path):
    glyph = str(venv / "bin" / "glyph")
    where = subprocess.run(
        [
            venv / "bin" / "python",
            "-c",
            "import glyphmemory, glyph_cli; print(glyphmemory.__file__, glyph_cli.__file__)",
        ],
        capture_output=True,
        text=True,
    ).stdout
    assert where.count(str(venv)) == 2 and str(ROOT) not in where  # the installed copy, not this checkout
    env = clean_env(GLYPH_HOME=str(tmp_path / "home"))
    proc, url = start_glyph_serve(env, glyph=glyph)
    try:
        env = {**env, "GLYPH_URL": url, "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}
        flow = re.search(r"<!-- doctest -->\n```sh\n(glyph write .*?)```", README.read_text(), re.S).group(1)
        for step in ("glyph write", "glyph recent", "glyph search", "glyph context"):
            assert step in flow
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", flow], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "We deploy with CDK" in ran.stdout and "# GlyphMemory context" in ran.stdout
        assert "Traceback" not in ran.stderr

        page = httpx.get(url + "/ui", follow_redirects=True)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        wanted = set(re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', page.text))
        # Every file of templates/ that is not rendered into a page is served as it is.
        templates = ROOT / "src" / "glyphmemory" / "templates"
        wanted |= {f"/ui/static/{p.name}" for p in templates.iterdir() if p.suffix not in (".html", ".css")}
        assert "/ui/static/app.js" in wanted
        for path in sorted(wanted):
            answer = httpx.get(url + path)
            assert answer.status_code == 200 and answer.content, path
    finally:
        stop(proc)


def test_make_run_installs_saying_one_line(tmp_path):
    """A newcomer's first command: `make run` installs in a fresh venv and prints one line before
    the server's own (pip and setuptools talk into .venv/install.log)."""
    venv = tmp_path / "venv"
    result = subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", f"{venv}/.installed-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"installing glyphmemory into {venv}/ (once; details in {venv}/install.log)"]
    assert result.stderr == ""
    assert (venv / "bin" / "glyph").exists() and (venv / "install.log").exists()
