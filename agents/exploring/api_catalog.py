"""Read API descriptions (the STE data set's form, or a plain JSON list) into ApiSpecs."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bus.wire.api_spec import ApiSpec

# The data set's parameter types; others (ENUM, DATE, ...) constrain nothing.
_TYPES = {"STRING": "string", "NUMBER": "number", "INTEGER": "integer", "BOOLEAN": "boolean",
          "ARRAY": "array", "OBJECT": "object", "FLOAT": "number"}
# Descriptions in prose carry their schema as {{"date" : string, "days" : integer, }}.
_PROSE_ARG = re.compile(r'"(\w+)"\s*:\s*(\w+)')


class ApiCatalogError(ValueError):
    """An API description file or entry that cannot be read."""


def parameters_schema(required: list[dict], optional: list[dict]) -> dict:
    """A JSON schema from required/optional parameter lists ({name, type, description, default})."""
    props: dict[str, dict] = {}
    for param in [*required, *optional]:
        prop: dict[str, Any] = {}
        kind = _TYPES.get(str(param.get("type", "")).upper())
        if kind:
            prop["type"] = kind
        if param.get("description"):
            prop["description"] = str(param["description"])[:300]
        if param.get("default") not in (None, ""):
            prop["default"] = param["default"]
        props[str(param["name"])] = prop
    return {"type": "object", "properties": props, "required": [str(p["name"]) for p in required],
            "additionalProperties": False}


def api_from_description(name: str, raw: str | dict) -> ApiSpec:
    """One API from the STE data set's description: a JSON object of parameter lists, or prose."""
    data = raw
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            data = None
    if isinstance(data, dict):
        schema = parameters_schema(data.get("required_parameters") or [], data.get("optional_parameters") or [])
        # The parameter lists become the schema; the prose keeps what the API and its parent service do.
        parent = data.get("parent_tool_description") or ""
        text = " ".join(f"{data.get('description') or ''} {f'(Part of: {parent})' if parent else ''}".split())
        return ApiSpec(name=name, description=text or name, parameters=schema, endpoint=data.get("endpoint"))
    text = str(raw).split(". Your input should be")[0].split(" The Action to trigger")[0].strip()
    props = {arg: {"type": _TYPES.get(kind.upper(), "string")} for arg, kind in _PROSE_ARG.findall(str(raw))}
    return ApiSpec(name=name, description=text, parameters={
        "type": "object", "properties": props, "required": list(props), "additionalProperties": False})


def load_api_list(path: str | Path) -> list[ApiSpec]:
    """A JSON list of APIs ({name, description, required_parameters?, optional_parameters?, parameters?,
    endpoint?}) or a {name: description} object like the data set's API_descriptions.json."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ApiCatalogError(f"cannot read API descriptions from {path}: {exc}; pass a JSON list of "
                              "{name, description, required_parameters, optional_parameters}") from None
    if isinstance(data, dict):
        return [api_from_description(name, raw) for name, raw in data.items()]
    if not isinstance(data, list):
        raise ApiCatalogError(f"{path}: expected a JSON list of API objects")
    apis = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not item.get("name"):
            raise ApiCatalogError(f"{path}: entry {i} has no 'name'; each API needs a name and a description")
        if isinstance(item.get("parameters"), dict):
            apis.append(ApiSpec(name=item["name"], description=str(item.get("description", "")),
                                parameters=item["parameters"], endpoint=item.get("endpoint")))
        else:
            apis.append(api_from_description(item["name"], {k: v for k, v in item.items() if k != "name"}))
    return apis


def load_ste_apis(data_dir: str | Path) -> list[ApiSpec]:
    """The 50 APIs of the STE test set (API_list.json), described by API_descriptions.json."""
    folder = Path(data_dir)
    names = json.loads((folder / "API_list.json").read_text())
    descriptions = json.loads((folder / "API_descriptions.json").read_text())
    return [api_from_description(name, descriptions[name]) for name in names]
