"""Terraform read with python-hcl2 into plain Python: string quotes and block markers
removed, every file of a folder merged by block type. Terraform itself and its
providers cannot be downloaded here, so the structure is what the tests can check."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

REFERENCE = re.compile(r"\b(var|local|module|data)\.([A-Za-z_][A-Za-z0-9_-]*)(?:\.([A-Za-z_][A-Za-z0-9_-]*))?")
RESOURCE_REFERENCE = re.compile(r"(?<![\w.\"/-])((?:google|random)_[a-z0-9_]+)\.([a-z_][a-z0-9_]*)\b")


def clean(value):
    if isinstance(value, dict):
        return {clean(key): clean(item) for key, item in value.items() if key != "__is_block__"}
    if isinstance(value, list):
        return [clean(item) for item in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@dataclass
class Folder:
    """One Terraform module or root: its blocks by kind and name."""

    path: Path
    variables: dict[str, dict] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)  # any HCL value
    resources: dict[str, dict] = field(default_factory=dict)  # "type.name" -> body
    data: dict[str, dict] = field(default_factory=dict)
    modules: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    terraform: list[dict] = field(default_factory=list)
    providers: list[dict] = field(default_factory=list)
    text: str = ""

    @classmethod
    def load(cls, path: Path) -> Folder:
        folder = cls(path)
        for file in sorted(path.glob("*.tf")):
            folder.text += file.read_text()
            parsed = clean(hcl2.loads(file.read_text()))
            for block in parsed.get("variable", []):
                folder.variables.update(block)
            for block in parsed.get("locals", []):
                folder.locals.update(block)
            for kind, into in (("resource", folder.resources), ("data", folder.data)):
                for block in parsed.get(kind, []):
                    for type_, named in block.items():
                        for name, body in named.items():
                            into[f"{type_}.{name}"] = body
            for block in parsed.get("module", []):
                folder.modules.update(block)
            for block in parsed.get("output", []):
                folder.outputs.update(block)
            folder.terraform += parsed.get("terraform", [])
            folder.providers += parsed.get("provider", [])
        return folder

    def resources_of(self, type_: str) -> dict[str, dict]:
        return {name.split(".", 1)[1]: body for name, body in self.resources.items() if name.startswith(f"{type_}.")}


def strings(value) -> list[str]:
    """Every string inside a parsed value (expressions are strings)."""
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return [value] if isinstance(value, str) else []


def first(blocks):
    """A nested block as python-hcl2 gives it: a list of one dict."""
    return blocks[0] if isinstance(blocks, list) else blocks
