"""Build the Lambda asset without Docker: the handler, the glyphmemory package and its
pure-Python runtime dependencies, with bytecode compiled by the runtime's own Python version.

Lambda's file system is read-only, so a function without `.pyc` files compiles every module from
source at every cold start (164 ms of a 0.29-CPU cold request, bench/deployed_path.py). The
bytecode is `unchecked-hash` (PEP 552): used as it is, whatever mtimes the zip gives the sources.
"""

from __future__ import annotations

import glob
import importlib
import os
import shutil
import subprocess
from pathlib import Path

from glyphmemory.names import ENV_LAMBDA_PYTHON  # an interpreter of LAMBDA_PYTHON, when not on PATH

ROOT = Path(__file__).resolve().parents[1]
# What the Lambda imports beyond the standard library (no AWS SDK: see glyphmemory.aws).
RUNTIME_PACKAGES = ("pyotp", "snowballstemmer")
# Of these packages, only the files the function loads (glyphmemory.stemming loads the English
# stemmer alone; all 36 would add ~250 KiB to the zip) and the licence, from the package's metadata.
PACKAGE_FILES = {"snowballstemmer": ("among.py", "basestemmer.py", "english_stemmer.py")}
LAMBDA_PYTHON = "3.12"  # must match the function's runtime (infra/function.py checks it)
_IGNORED = ("__pycache__", "*.pyc", "*.pyi", "py.typed")
_IGNORE = shutil.ignore_patterns(*_IGNORED)
# What the memory function never loads: the bridge has its own functions, and the page (its
# templates, stylesheet, script and routes) and the MCP connector (its tools, routes and first
# answers) are served by the connector function, which has Jinja2 and the SDK.
API_LEAVES_OUT = ("bridge", "templates", "mcp_*.py", "ui_*.py", "pages.py")


def package_sources(root: Path = ROOT) -> list[Path]:
    """Every file of src/glyphmemory the asset ships (whatever its kind: .py, templates, scripts),
    sorted: what build_lambda_asset copies, and so what the asset's hash must cover."""
    from fnmatch import fnmatch

    package = root / "src" / "glyphmemory"
    return sorted(
        path
        for path in package.rglob("*")
        if path.is_file()
        and not any(fnmatch(part, pattern) for part in path.relative_to(package).parts for pattern in _IGNORED)
    )


def lambda_python(version: str = LAMBDA_PYTHON) -> str:
    """An interpreter of exactly the runtime's version: GLYPH_LAMBDA_PYTHON, pythonX.Y on PATH,
    or pyenv's. Bytecode of another version would be ignored on Lambda, silently: refuse."""
    import pwd

    candidates = [os.environ.get(ENV_LAMBDA_PYTHON), shutil.which(f"python{version}")]
    # pyenv's versions, also when HOME points elsewhere (as under `cdk synth` in the tests).
    roots = [os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv"), pwd.getpwuid(os.getuid()).pw_dir + "/.pyenv"]
    for root in dict.fromkeys(filter(None, roots)):
        candidates += sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"), reverse=True)
    for path in filter(None, candidates):
        try:
            found = subprocess.run(
                [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
        except OSError:
            continue
        if found == version:
            return path
    raise RuntimeError(
        f"the Lambda asset needs Python {version} to compile bytecode for the python{version} runtime: "
        f"install it (pyenv install {version}) or set {ENV_LAMBDA_PYTHON} to its interpreter"
    )


# The connector function (lambda/mcp_handler.py) adds the MCP SDK and the page's template engine,
# with their dependencies, installed by pip as wheels for the function's platform (pydantic-core is
# compiled: the host's own build would not load on arm64).
def pinned_versions(*names: str) -> tuple[str, ...]:
    """Exactly the versions installed here, which the tests ran against."""
    from importlib.metadata import version

    return tuple(f"{name}=={version(name)}" for name in names)


MCP_REQUIREMENTS = pinned_versions("mcp", "jinja2", "pyotp", "snowballstemmer")
# The bridge's functions (lambda/bridge_handler.py) add httpx, for the Messages API: pure Python.
BRIDGE_REQUIREMENTS = pinned_versions("httpx", "pyotp", "snowballstemmer")
# Each asset: its entry point (copied as handler.py) and what pip installs beside glyphmemory.
ASSETS = {
    "api": ("handler.py", ()),
    "mcp": ("mcp_handler.py", MCP_REQUIREMENTS),
    "bridge": ("bridge_handler.py", BRIDGE_REQUIREMENTS),
}
LAMBDA_PLATFORM = "manylinux2014_aarch64"


def host_platform() -> str:
    """The wheel platform of this machine, to run an asset here (tests, bench/mcp_cold.py)."""
    import platform

    return f"manylinux2014_{platform.machine()}"


def _copy_licence(name: str, target: Path) -> None:
    """The licence files a package's metadata lists, beside its copied files."""
    from importlib.metadata import distribution

    for file in distribution(name).files or ():
        if "licen" in str(file).lower() or "copying" in str(file).lower():
            shutil.copy2(file.locate(), target / Path(str(file)).name)


def build_lambda_asset(
    out_dir: str | Path,
    *,
    python_version: str = LAMBDA_PYTHON,
    kind: str = "api",
    platform: str = LAMBDA_PLATFORM,
) -> Path:
    """Fill out_dir with what a function needs (kind: api, mcp or bridge): the memory function's
    is pure Python (refused otherwise); the others' wheels are the target platform's."""
    import sys

    entry, requirements = ASSETS[kind]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "lambda" / entry, out / "handler.py")
    ignore = shutil.ignore_patterns(*_IGNORED, *API_LEAVES_OUT) if kind == "api" else _IGNORE
    shutil.copytree(ROOT / "src" / "glyphmemory", out / "glyphmemory", ignore=ignore, dirs_exist_ok=True)
    if requirements:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
            + ["--target", str(out), "--platform", platform, "--implementation", "cp"]
            + ["--python-version", python_version, "--only-binary=:all:", "--upgrade", *requirements],
            check=True,
            capture_output=True,
            timeout=600,
        )
        shutil.rmtree(out / "bin", ignore_errors=True)  # console scripts; *.dist-info stays (the SDK reads its version)
    else:
        for name in RUNTIME_PACKAGES:
            source = Path(importlib.import_module(name).__file__).parent
            if name in PACKAGE_FILES:
                (out / name).mkdir(exist_ok=True)
                for file in PACKAGE_FILES[name]:
                    shutil.copy2(source / file, out / name / file)
                _copy_licence(name, out / name)
            else:
                shutil.copytree(source, out / name, ignore=_IGNORE, dirs_exist_ok=True)
        compiled = [p for p in out.rglob("*") if p.suffix in (".so", ".pyd", ".dylib")]
        if compiled:
            raise RuntimeError(f"the Lambda asset must be pure Python; found {compiled[0]}")
    # -s/-p: tracebacks name /var/task/… as on Lambda, not this machine's build folder.
    subprocess.run(
        [
            lambda_python(python_version),
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(out),
            "-p",
            "/var/task",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out
