"""The JSON-lines exchange format of tools: one ToolSpec per line, carrying its version hash."""
from __future__ import annotations

import json

from pydantic import ValidationError

from bus.wire.tool_spec import ToolSpec
from store.store_errors import ToolImportError


def export_line(spec: ToolSpec) -> str:
    """One export record: the spec's fields plus "version", so an importer can detect changed code."""
    return json.dumps({"version": spec.version, **spec.model_dump(mode="json")}, sort_keys=True) + "\n"


def parse_export_line(line: str, number: int) -> ToolSpec:
    """One export record back into a ToolSpec, checking its content hash against its version."""
    try:
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        claimed = record.pop("version", None)
        spec = ToolSpec.model_validate(record)
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise ToolImportError(f"line {number}: not a ToolSpec record ({first}); re-export it with `latm tools export`") from None
    if claimed is not None and claimed != spec.version:
        raise ToolImportError(
            f"line {number}: tool {spec.tool_id!r} claims version {claimed} but its code hashes to {spec.version}; "
            "the code was changed after export: re-export it from the source store, or drop the 'version' field "
            "to import it as a new version")
    return spec
