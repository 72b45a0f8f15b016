"""The base of every block, and how host data is read into one.

`Block` (a block of host data: its fields typed by model.types, unknown keys refused) and
`Entry` (a list entry also given as one line, "192.168.1.100/24 dev eth1"); `read_block`
validates a value as a block with pydantic, once, and `report_refusals` turns each of
pydantic's refusals into the project's message (key path, the value there as shown, what
its type allows, `Says`; an unknown key with "did you mean"; a missing key with its
description); `read_value` does the same for one value of a type. The blocks (`keys`,
`lvs`, `tracking_blocks`, ...) build on these; this module imports no block.
"""

import functools
from collections.abc import Mapping
from types import UnionType
from typing import Annotated, ClassVar, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .problems import NOT_SHOWN
from .types import Also, Derived, OnEntry, Says, whole_text


class ModelDisagrees(AssertionError):
    """The hand-written checks accepted a value its field refuses (a bug)."""


class Block(BaseModel):
    """A block of host data: unknown keys are errors. Validated, it is what render gets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _lists_as_tuples(cls, value):
        """A validated block is immutable, its lists too: they are tuples."""
        return tuple(value) if isinstance(value, list) else value

    @field_serializer("*", mode="wrap")
    def _tuples_as_lists(self, value, handler):
        """Dumped, they are lists again (the fields' declared type)."""
        return handler(list(value) if isinstance(value, tuple) else value)

    @classmethod
    def keys(cls):
        """The host data keys of the block (its fields that are not `Derived`; a field's
        alias where it has one, e.g. `from`)."""
        return [field.alias or name for name, field in cls.model_fields.items()
                if not any(isinstance(item, Derived) for item in field.metadata)]

    @classmethod
    def built(cls, problems, given, where=None, **validated):
        """The validated block: the keys of `given` with the `validated` values (read,
        normalised or derived) in their place, and the declared defaults for the rest.
        Pydantic validates it all, once: the result is the validated model (a whole
        number of seconds stays whole, lists are tuples). A key given that no reader read (`where`: the block's key
        path) is checked here by its field's type, and refused with its message: a new
        keyword costs one field. Where the host has errors already (`problems`), the
        fields that fail are left at their defaults, or the block is None if one is
        required (the host is refused; the block only feeds the checks still to come);
        without errors, a field the model refuses is a bug: the validator accepted what
        the model does not."""
        values = {**{key: given[key] for key in cls.keys() if key in given}, **validated}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            failed = {str(detail["loc"][0]) for detail in error.errors()}
            unread = {name for name in failed - set(validated) if name in given and not any(
                _beneath(f"{where}.{name}", f"{problem.key}.") for problem in problems.errors)}
            if where is not None and unread:
                report_refusals(problems, where, cls, values, error, fields=unread)
            if not problems.errors:
                raise ModelDisagrees(f"{cls.__name__}: the validation accepted what the "
                                     f"model refuses: {', '.join(sorted(failed))}") from None
            values = {key: value for key, value in values.items() if key not in failed}
            try:
                return cls.model_validate(values)
            except ValidationError:
                return None  # a required key failed

    @classmethod
    def field(cls, key):
        """The field of host data key `key` (a field's alias, or its name)."""
        return cls.model_fields[_field_name(cls, key)]

    @classmethod
    def default(cls, name):
        return cls.model_fields[name].get_default(call_default_factory=True)


def shorthand(line, options):
    """A list entry written as one line, "FIRST keyword value ...", as a mapping of
    `options` (the first one is FIRST); ValueError if the words do not pair up."""
    words = line.split()
    if not words or len(words) % 2 == 0:
        raise ValueError("not FIRST followed by keyword value pairs")
    return {options[0]: words[0], **dict(zip(words[1::2], words[2::2]))}


class Entry(Block):
    """A list entry given as one line ("192.168.1.100/24 dev eth1") or as a mapping."""

    NUMBERS: ClassVar = ()  # whole-number options, which a line gives as text

    @classmethod
    def from_line(cls, line):
        """The entry's mapping from its line; ValueError if the words do not pair up."""
        return shorthand(line, cls.keys())

    @classmethod
    def line_says(cls):
        """What a line of this entry must be."""
        return (f"{cls.keys()[0].upper()} followed by keyword value pairs "
                f"({', '.join(cls.keys()[1:])})")

    @model_validator(mode="before")
    @classmethod
    def _from_line(cls, value):
        try:
            return cls.as_mapping(value)
        except ValueError:
            raise PydanticCustomError("entry", "not an entry line") from None

    @classmethod
    def as_mapping(cls, value):
        """The entry as a mapping (a line's words paired up, its NUMBERS whole numbers);
        ValueError for a line whose words do not pair up; another value as it is."""
        if isinstance(value, str):
            value = cls.from_line(value)
        if isinstance(value, Mapping):
            value = {key: whole_text(item) if key in cls.NUMBERS else item
                     for key, item in value.items()}
        return value


class OrLine(Also):
    """In the JSON Schema and the key table, an entry is also a line of text."""

    def __init__(self):
        super().__init__("str")

    def __get_pydantic_json_schema__(self, core_schema, handler):
        return {"anyOf": [{"type": "string", "description": "the entry on one line"},
                          handler(core_schema)]}


def entry_line(entry, first, options):
    """An entry as its keepalived.conf line: FIRST keyword value ... (options set only)."""
    return " ".join([getattr(entry, first), *(f"{key} {getattr(entry, key)}" for key in options
                                              if getattr(entry, key) is not None)])


# -- checking one field --

def field_type(block, name):
    """The type of `block`'s field `name`, with its metadata (its `Says`, ...)."""
    field = block.model_fields[name]
    return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation


@functools.cache
def _adapter(kind):
    return TypeAdapter(kind)


def _says(kind):
    """The type's message: the outermost `Says` (a type narrowing another says its own)."""
    says = [candidate for candidate in _flatten(kind) if isinstance(candidate, Says)]
    if not says:
        raise LookupError(f"{kind} declares no message")
    return says[-1]


def _flatten(annotation):
    """The metadata in a type, the inner types' first."""
    for arg in getattr(annotation, "__args__", ()):
        yield from _flatten(arg)
    yield from getattr(annotation, "__metadata__", ())


def read_value(problems, key, kind, value):
    """The value if it is of type `kind` (a type of model.types, with its `Says`), else
    None after an error on `problems` naming `key`, the value and what `kind` allows.
    Text comes back as the type normalises it (an IP address as ipaddress writes it);
    numbers and the rest as given (5 stays 5, for the messages that show it)."""
    try:
        if value is None:
            raise ValueError("unset")
        result = _adapter(kind).validate_python(value)
    except (ValidationError, ValueError):
        problems.error(key, value, _says(kind)(value))
        return None
    return result if isinstance(result, str) else value


# -- checking a whole block --

def _layers(annotation):
    """`annotation`, then each type under it: under Annotated, and X under `X | None`."""
    while True:
        yield annotation
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, UnionType) and len(members) == 1:
            annotation = members[0]
        else:
            return


def _inner(annotation):
    """The type under Annotated (and under `X | None`): what a loc part steps into."""
    *_, inner = _layers(annotation)
    return inner


def _members(annotation):
    """The types a value of `annotation` may be: the members of a union, or itself."""
    kind = _inner(annotation)
    if get_origin(kind) in (Union, UnionType):
        return [_inner(member) for member in get_args(kind)]
    return [kind]


def _step(annotation, part):
    """The type at `part` (a field name, a list index or a mapping key) of `annotation`,
    or None when `part` is pydantic's tag for a member of a union (no step)."""
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            if isinstance(part, str) and _field_name(member, part) is not None:
                return field_type(member, _field_name(member, part))
        elif get_origin(member) is list and isinstance(part, int):
            return get_args(member)[0]
        elif get_origin(member) is dict and isinstance(part, str) and not part.startswith(
                ("function-", "list[", "dict[", "literal[", "model-", "tagged-union")):
            return get_args(member)[1]
    return None


def _field_name(block, key):
    """The field of `block` whose key (its alias, or its name) is `key`, or None."""
    return next((name for name, field in block.model_fields.items()
                 if (field.alias or name) == key), None)


def _own_says(annotation):
    """The `Says` of this type itself (or of X in `X | None`), not of types inside it."""
    for layer in _layers(annotation):
        says = [item for item in getattr(layer, "__metadata__", ()) if isinstance(item, Says)]
        if get_origin(layer) is Annotated and says:
            return says[-1]
    return None


def _item(container, part):
    if isinstance(container, Mapping):
        return container.get(part)
    if isinstance(container, (list, tuple)) and isinstance(part, int) and \
            -len(container) <= part < len(container):
        return container[part]
    return None


def _walk(block, loc, value):
    """Each step of `loc` inside `block`, as (key path suffix, value there, type there):
    .field, [index], ['mapping key']; pydantic's union member tags are no step, and a
    mapping key's own error ("[key]") stays at that key, its value the key."""
    kind, path, container, last = block, "", block, None
    for part in loc:
        if part == "[key]":
            members = [get_origin(member) is dict for member in _members(container)]
            if any(members):
                kind = get_args(_members(container)[members.index(True)])[0]
                yield path, last, kind
            continue
        inner = _step(kind, part)
        if inner is None:
            continue  # a union member's tag
        entry = next((member for member in _members(kind) if isinstance(member, type)
                      and issubclass(member, Entry)), None)
        if entry is not None and isinstance(part, str):
            try:  # an entry given as a line: its words
                value = entry.as_mapping(value)
            except ValueError:
                pass
        field = any(isinstance(member, type) and issubclass(member, BaseModel)
                    and _field_name(member, part) is not None for member in _members(kind))
        container, kind, last = kind, inner, part
        path += f".{part}" if field else f"[{part!r}]" if isinstance(part, str) else f"[{part}]"
        value = _item(value, part)
        yield path, value, kind


# What a value must be, by pydantic's error type, where its type says nothing itself.
SHAPES = {"list_type": "must be a list", "dict_type": "must be a mapping of keys to values",
          "string_type": "must be text", "bool_type": "must be true or false"}


def _refusal(block, loc, value, error_type):
    """(key path suffix, value there, message) of one pydantic error at `loc` inside
    `block`: the path stops at the deepest type on it that says what it allows (`Says`);
    else a block's shape, a missing key's description, or the shape pydantic wanted."""
    steps = list(_walk(block, loc, value))
    if error_type == "missing":  # the type's own words for a missing value, else the
        path, _, kind = steps[-1]  # key's description
        says = _own_says(kind)
        if says is not None and says(None).startswith("required"):
            return path, None, says(None)
        holder = _block_at(block, loc)
        return path, NOT_SHOWN, "required: " + holder.model_fields[
            _field_name(holder, loc[-1])].description.split(" (required")[0]
    for depth in range(len(steps) - 1, -1, -1):
        path, there, kind = steps[depth]
        says = _own_says(kind)
        if says is not None:
            if depth and any(isinstance(item, OnEntry) for item in _flatten(kind)):
                return *steps[depth - 1][:2], says(there)
            return path, there, says(there)
        for member in _members(kind):
            if isinstance(member, type) and issubclass(member, BaseModel) and \
                    depth == len(steps) - 1:
                return path, there, _block_says(member, there)
    path, there, kind = steps[-1] if steps else ("", value, block)
    for member in _members(kind):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return path, there, _block_says(member, there)
    return path, there, SHAPES.get(error_type, "is not valid")


def _block_at(block, loc):
    """The Block class that holds the field at the end of `loc`."""
    kind = block
    for part in loc[:-1]:
        kind = _step(kind, part) or kind
    for member in _members(kind):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return block


def _beneath(path, other):
    """`other` is a key path inside `path`."""
    return other != path and other.startswith(path) and other[len(path)] in ".["


def read_block(problems, key, block, value, **derived):
    """`value` (host data: a mapping, or a line for an Entry) validated as `block` by
    pydantic, with the `derived` values set; or None after reporting what it refuses on
    `problems`, one message per key path: the path under `key`, the value there (shown as
    `problems.shown` shows it) and what its type allows (`Says`); an unknown key with a
    "did you mean"; a missing required key with its description. Where a union's members
    refuse a value at several depths, the deepest paths are reported (the value had the
    shape of the member that went deeper)."""
    if isinstance(value, Mapping):
        for name in value:
            if name in block.model_fields and name not in block.keys():  # Derived
                problems.unknown_key(f"{key}.{name}", name, block.keys())
                return None
    try:
        return block.model_validate({**value, **derived} if isinstance(value, Mapping)
                                    else value)
    except ValidationError as error:
        report_refusals(problems, key, block, value, error)
        return None


def report_refusals(problems, key, block, value, error, fields=None):
    """Each refusal of pydantic's `error` for `value` (validated as `block`) on
    `problems`, as `read_block` words it, one per key path, the deepest where they nest;
    `fields`: only those top-level fields'."""
    found = {}  # key path -> (value, message, or the block an unknown key is not of)
    for detail in error.errors():
        loc = detail["loc"]
        if fields is not None and (not loc or loc[0] not in fields):
            continue
        if detail["type"] == "extra_forbidden":
            steps = list(_walk(block, loc[:-1], value))
            path = (steps[-1][0] if steps else "") + f".{loc[-1]}"
            found.setdefault(key + path if key else path.lstrip("."),
                             (NOT_SHOWN, _block_at(block, loc)))
            continue
        path, there, message = _refusal(block, loc, value, detail["type"])
        found.setdefault(key + path if key else path.lstrip("."), (there, message))
    for where, (there, message) in found.items():
        if any(_beneath(where, other) for other in found):
            continue
        if isinstance(message, type):  # an unknown key of that block
            problems.unknown_key(where, where.rpartition(".")[2], message.keys(),
                                 what="option" if issubclass(message, Entry) else "key")
        else:
            problems.error(where, there, message)


def _block_says(block, value):
    """What a block's value must be, when it is not even a mapping (or an entry line)."""
    names = ", ".join(block.keys())
    if issubclass(block, Entry) and not isinstance(value, str):
        return f"must be a string or a mapping of {names}"
    if issubclass(block, Entry):
        return f"must be {block.line_says()}, or a mapping of {names}"
    return f"must be a mapping of {names}"
