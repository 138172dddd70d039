"""Command-line options built from a pydantic model, so a setting and its option are one field.

Every field becomes ``--field-name``, plus the short alias the field declares beside itself
(``json_schema_extra={"option": "port"}``). The help is the field's description and its
default; a Literal field lists its choices. Options given on the command line win over the
environment, which pydantic-settings reads for the rest. Secrets are marked
``json_schema_extra={"env_only": True}`` and never become options: every user of the machine
sees a command line in ``ps``.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, ValidationError
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)

OPTION = "option"  # json_schema_extra key: the field's short option name
ENV_ONLY = "env_only"  # json_schema_extra key: a secret, read from the environment only
METAVARS: dict[Any, str] = {
    str: "TEXT",
    int: "INT",
    float: "NUMBER",
    Path: "PATH",
    AwareDatetime: "ISO-TIME",
}


def command_parser(command: str, description: str) -> argparse.ArgumentParser:
    """The parser of ``landfill COMMAND``; the description keeps its line breaks."""
    return argparse.ArgumentParser(
        prog=f"landfill {command}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_options(parser: argparse.ArgumentParser, model: type[BaseModel]) -> None:
    """Add one option per field of ``model``: a group per class, the model's own fields first."""
    for cls in model.__mro__:
        own = [n for n in vars(cls).get("__annotations__", {}) if n in model.model_fields]
        if not own:
            continue
        group = parser.add_argument_group(cls.__name__, _group_note(cls, own[0]))
        for name in own:
            field = model.model_fields[name]
            if _extra(field).get(ENV_ONLY):
                continue
            group.add_argument(
                *flags(name, field), dest=name, default=None, help=_help(field), **_kind(field)
            )


def build(model: type[M], args: argparse.Namespace) -> M:
    """The model from the options given in ``args`` over the environment; exit when invalid."""
    given = {
        name: _value(field, getattr(args, name))
        for name, field in model.model_fields.items()
        if getattr(args, name, None) is not None
    }
    try:
        return model(**given)
    except ValidationError as exc:
        raise SystemExit(invalid(model, exc)) from None


def invalid(model: type[BaseModel], exc: ValidationError) -> str:
    """The message for invalid settings: each problem with its option and variable."""
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        lines.append(f"  {_where(model, name)}: {error['msg']}")
    return "invalid settings:\n" + "\n".join(lines)


def flags(name: str, field: FieldInfo) -> list[str]:
    """The option strings of a field: its short alias first, then ``--field-name``."""
    alias = _extra(field).get(OPTION)
    long = "--" + name.replace("_", "-")
    return [f"--{alias}", long] if alias else [long]


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _env_prefix(model: type[BaseModel]) -> str | None:
    prefix = model.model_config.get("env_prefix")
    return prefix if isinstance(prefix, str) else None


def _group_note(cls: type, first: str) -> str:
    what = (cls.__doc__ or "").strip().splitlines()[0].replace("`", "") if cls.__doc__ else ""
    prefix = _env_prefix(cls) if issubclass(cls, BaseModel) else None
    if prefix is not None:
        option = "--" + first.replace("_", "-")
        what += f" Each option overrides its variable ({option}: {prefix}{first.upper()})."
    return textwrap.fill(what, 76)  # the parser keeps line breaks as written


def _where(model: type[BaseModel], name: str) -> str:
    field = model.model_fields.get(name)
    if field is None:
        return name or "settings"
    where = flags(name, field)[0]
    prefix = _env_prefix(model)
    return f"{where} / {prefix}{name.upper()}" if prefix is not None else where


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _help(field: FieldInfo) -> str:
    default = _shown(field.get_default(call_default_factory=True))
    text = field.description or ""
    if not (default == "none" and "none:" in text):  # the description says what none means
        text = f"{text} (default {default})" if text else f"default {default}"
    return text.replace("%", "%%")  # argparse formats help with %


def _inner(annotation: Any) -> Any:
    """``X`` for ``X | None``; the annotation itself otherwise."""
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not NoneType]
        if len(args) == 1:
            return args[0]
    return annotation


def _kind(field: FieldInfo) -> dict[str, Any]:
    """How argparse takes the value: a flag, a choice, or text that pydantic validates."""
    inner = _inner(field.annotation)
    if inner is bool:
        if field.default is False:
            return {"action": "store_true"}
        return {"action": argparse.BooleanOptionalAction}
    if get_origin(inner) is Literal:
        choices = get_args(inner)
        return {"choices": choices, "type": type(choices[0])}
    if get_origin(inner) in (list, dict, set, tuple):
        return {"metavar": "JSON"}
    return {"metavar": METAVARS.get(inner, "VALUE")}


def _value(field: FieldInfo, value: Any) -> Any:
    """A JSON option becomes its list or dict, as pydantic-settings does for the environment."""
    if isinstance(value, str) and get_origin(_inner(field.annotation)) in (list, dict, set, tuple):
        try:
            return json.loads(value)
        except ValueError:
            return value  # pydantic says what it expected
    return value
