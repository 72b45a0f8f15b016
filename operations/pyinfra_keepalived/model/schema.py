"""Generated from `model.keys`: the JSON Schema of host_vars/group_vars YAML, and the
table of keys of the documentation's data-keys page (docs/data-keys.md). Both are
committed; tests/test_model_keys.py keeps them current.

    python3 -m pyinfra_keepalived.model.schema   # rewrites both, in the repository
"""

import json
import os
import sys
import typing

from .keys import BannerCheckVars, HostData
from .reading import Block
from .types import Also

SCHEMA_PATH = os.path.join("schema", "keepalived-host-data.schema.json")
KEYS_PAGE = os.path.join("docs", "data-keys.md")
BEGIN, END = "<!-- keys:begin -->", "<!-- keys:end -->"


def json_schema():
    """The JSON Schema (draft 2020-12) of a host's data: the keepalived_* keys as
    model.keys declares them; other keys (ssh_hostname, ...) are free, and an unknown
    keepalived_* key is refused (an editor flags it as it is typed)."""
    schema = HostData.model_json_schema(mode="validation")
    schema.pop("additionalProperties", None)
    schema.update({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "patternProperties": {"^(?!keepalived_)": {}},
        "additionalProperties": False,
    })
    return schema


def _type_text(annotation):
    """A short type for the table: int, list[...], one of ..., ..."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        also = [name for item in annotation.__metadata__ if isinstance(item, Also)
                for name in item.also]
        text = _type_text(args[0])
        return " \\| ".join([*also, text] if also == ["str"] else [text, *also])
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(arg) for arg in args)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType")):
        return " \\| ".join(_type_text(arg) for arg in args if arg is not type(None))
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_text(arg) for arg in args)}]"
    return getattr(annotation, "__name__", str(annotation))


def _range(field):
    """`1-255` from a field's ge/le, or ""."""
    bounds = {}
    for annotation in [field, *typing.get_args(field.annotation)]:
        for item in getattr(annotation, "metadata", None) or getattr(annotation, "__metadata__",
                                                                     ()):
            for name in ("ge", "le"):
                if getattr(item, name, None) is not None:
                    bounds[name] = getattr(item, name)
            for nested in getattr(item, "metadata", ()):
                for name in ("ge", "le"):
                    if getattr(nested, name, None) is not None:
                        bounds[name] = getattr(nested, name)
    if len(bounds) == 2:
        return " " + "-".join(f"{bound:g}" if isinstance(bound, float) else str(bound)
                              for bound in (bounds["ge"], bounds["le"]))
    return ""


def _default(field):
    if field.is_required():
        return "required"
    default = field.get_default(call_default_factory=True)
    return "none" if default is None else f"`{json.dumps(default)}`"


def _blocks(block, seen):
    """`block` and the blocks its keys hold, each once, in the order they appear."""
    if block in seen:
        return
    seen.append(block)
    for name in block.keys():
        for nested in _nested_blocks(block.field(name).annotation):
            _blocks(nested, seen)


def _nested_blocks(annotation):
    """The Block classes in a type (list[str | VirtualIp] -> VirtualIp), in order."""
    if isinstance(annotation, type) and issubclass(annotation, Block):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _nested_blocks(arg)


def key_table():
    """The tables of keys (docs/data-keys.md), one per block, from model.keys."""
    blocks = []
    _blocks(HostData, blocks)
    blocks.append(BannerCheckVars)
    parts = []
    for block in blocks:
        doc = " ".join((block.__doc__ or "").split())
        parts += [f"### {block.__name__}", "", doc, "", "| key | type | default | meaning |",
                  "|---|---|---|---|"]
        for name in block.keys():
            field = block.field(name)
            kind = _type_text(field.annotation) + _range(field)
            parts.append(f"| `{name}` | {kind} | {_default(field)} | "
                         f"{field.description or ''} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def page_with_table(text):
    """`text` (the data-keys page) with the table between the markers replaced."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + key_table() + text[end:]


def schema_text():
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"


def write(root="."):
    """Rewrite the data-keys page's table and the schema file under `root` (the
    repository)."""
    page = os.path.join(root, KEYS_PAGE)
    with open(page) as handle:
        text = page_with_table(handle.read())
    with open(page, "w") as handle:
        handle.write(text)
    path = os.path.join(root, SCHEMA_PATH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(schema_text())


__all__ = ["json_schema", "key_table", "write"]

if __name__ == "__main__":
    # --schema: print the schema (a project using the installed package saves it where its
    # editor looks); no argument: rewrite this repository's key table and schema file
    if sys.argv[1:] == ["--schema"]:
        sys.stdout.write(schema_text())
    else:
        write()
