"""`make lock`: the locked, hashed requirements of each deployable, resolved by uv.

    locks/dev.txt      everything `make install` puts in .venv (all extras and dev)
    locks/web.txt      the web image          (frontend_service/Dockerfile)
    locks/job.txt      the render job image   (animate_job/Dockerfile)
    locks/trigger.txt  the trigger image      (animate_job/trigger.Dockerfile)
    locks/wheels.json  PyPI's files for every locked version (names, sha256, Python
                       requirement), read by tests/deploy/test_locks.py offline

All are resolved once, together, for the images' platform (CPython 3.11, manylinux
x86_64, binary wheels only), so one package has one version everywhere. torch is
pinned to TORCH_VERSION but left out of every lock, with the CUDA packages that only
PyPI's Linux build of torch pulls in: `make install` installs the CPU build of that
version, and the job image the CUDA 12 build of it from PyTorch's index (Cloud Run's
L4 driver is CUDA 12.2; PyPI's torch is built for CUDA 13).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from pathlib import Path

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

HERE = Path(__file__).parent
ROOT = HERE.parent
UV = Path(sys.executable).parent / "uv"
TORCH_VERSION = "2.13.0"
PYTHON_VERSION = "3.11"
PLATFORM = "x86_64-manylinux_2_28"
INDEX = "https://pypi.org/simple"
# Which extras each lock installs; "dev" is the development machine's .venv.
LOCKS = {
    "dev": ["job", "web", "trigger", "local-dialogue", "dev"],
    "web": ["web"],
    "job": ["job"],
    "trigger": ["trigger"],
}


def uv_compile(extras: list[str], inputs: list[Path], output: Path, omit: set[str], constraints: Path | None = None):
    command = [str(UV), "pip", "compile", "--quiet", str(ROOT / "pyproject.toml"), *map(str, inputs)]
    command += ["--constraints", str(constraints)] if constraints else []
    command += [f"--extra={extra}" for extra in extras]
    command += ["--python-version", PYTHON_VERSION, "--python-platform", PLATFORM, "--only-binary", ":all:"]
    command += ["--index-url", INDEX, "--generate-hashes", "--no-header", "--no-annotate", "--output-file", str(output)]
    command += [f"--no-emit-package={name}" for name in sorted(omit)]
    subprocess.run(command, check=True, cwd=ROOT)


def pins(path: Path) -> dict[str, str]:
    """name -> version of a compiled requirements file."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split(" ")[0].split("==")
            found[canonicalize_name(name)] = version
    return found


def torch_only_packages(folder: Path) -> set[str]:
    """What PyPI's Linux torch needs beyond what torch needs everywhere: its CUDA packages."""
    (folder / "torch.in").write_text(f"torch=={TORCH_VERSION}\n")
    linux, elsewhere = folder / "torch-linux.txt", folder / "torch-windows.txt"
    for output, platform in ((linux, PLATFORM), (elsewhere, "x86_64-pc-windows-msvc")):
        command = [str(UV), "pip", "compile", "--quiet", str(folder / "torch.in"), "--python-version", PYTHON_VERSION]
        command += ["--python-platform", platform, "--index-url", INDEX, "--no-header", "--output-file", str(output)]
        subprocess.run(command, check=True)
    return (set(pins(linux)) - set(pins(elsewhere))) | {"torch"}


def build_requirements() -> list[str]:
    """The project is installed from source in every image: its build backend is locked too."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]


def record_wheels(locked: dict[str, str]) -> dict:
    """PyPI's files for each locked version (PEP 691 JSON), for the offline install test."""
    record = {}
    for name, version in sorted(locked.items()):
        request = urllib.request.Request(f"{INDEX}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            files = json.load(response)["files"]
        kept = []
        for file in files:
            filename = file["filename"]
            try:
                if filename.endswith(".whl"):
                    file_version, tags = parse_wheel_filename(filename)[1], parse_wheel_filename(filename)[3]
                    platforms = {tag.platform for tag in tags}
                    if not any(p == "any" or ("linux" in p and "x86_64" in p) for p in platforms):
                        continue
                elif filename.endswith((".tar.gz", ".zip")):
                    file_version = parse_sdist_filename(filename)[1]
                else:
                    continue
            except ValueError:
                continue
            if str(file_version) == version:
                kept.append(
                    {
                        "filename": filename,
                        "sha256": file["hashes"]["sha256"],
                        "requires_python": file.get("requires-python"),
                        "yanked": bool(file.get("yanked")),
                    }
                )
        record[name] = {"version": version, "files": kept}
    return record


def main() -> int:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        omit = torch_only_packages(folder)
        inputs = folder / "pins.in"
        inputs.write_text("\n".join([f"torch=={TORCH_VERSION}", *build_requirements()]) + "\n")
        # One resolution of everything (torch included, so its dependencies agree), then
        # each lock constrained to it.
        everything = folder / "everything.txt"
        uv_compile(LOCKS["dev"], [inputs], everything, omit=set())
        constraints = folder / "constraints.txt"
        constraints.write_text("\n".join(f"{n}=={v}" for n, v in pins(everything).items()) + "\n")
        build = folder / "build.in"
        build.write_text("\n".join(build_requirements()) + "\n")
        for lock, extras in LOCKS.items():
            uv_compile(extras, [build], HERE / f"{lock}.txt", omit, constraints=constraints)
    locked: dict[str, str] = {}
    for lock in LOCKS:
        locked |= pins(HERE / f"{lock}.txt")
    (HERE / "wheels.json").write_text(json.dumps(record_wheels(locked), indent=0, sort_keys=True) + "\n")
    print(
        f"locked {len(locked)} packages; torch {TORCH_VERSION} and {len(omit) - 1} CUDA packages left to each install"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
