"""Choose a 4D-parallel layout (tp, cp, pp, dp, micro-batch, activation checkpointing)
for a Llama 3 model on a GPU cluster from a memory model and a FLOP/communication model.

Pure Python on purpose: ``herd plan`` answers on a laptop without torch or NeMo. Every
term and assumption is explained in docs/backends.md ("The layout planner").

The mesh order is docs/recipe.md section 3: tensor parallel innermost (inside one server, over
NVLink), then context, pipeline and data parallel (FSDP) outermost. The planner enumerates
every layout that divides the GPU count and the global batch, keeps those whose busiest GPU
fits in memory (adding activation checkpointing layer by layer until it does) and returns
the one with the shortest predicted step time, that is the highest MFU ceiling.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from herd.core.errors import ConfigError

GIB = 1024**3


@dataclass(frozen=True)
class ModelShape:
    """The shapes the planner needs; the named sizes are docs/recipe.md section 2."""

    name: str
    n_layers: int
    dim: int
    ffn_dim: int
    n_heads: int
    n_kv_heads: int
    vocab_size: int

    @property
    def kv_dim(self) -> int:
        return self.n_kv_heads * (self.dim // self.n_heads)

    @property
    def layer_params(self) -> int:
        """Weights of one block: q and o projections, k and v (GQA), SwiGLU (3 matrices), 2 norms."""
        attention = 2 * self.dim * self.dim + 2 * self.dim * self.kv_dim
        return attention + 3 * self.dim * self.ffn_dim + 2 * self.dim

    @property
    def embedding_params(self) -> int:
        """One vocabulary matrix (Llama 3 does not tie the input and output embeddings)."""
        return self.vocab_size * self.dim

    @property
    def params(self) -> int:
        return self.n_layers * self.layer_params + 2 * self.embedding_params + self.dim


# docs/recipe.md section 2: 128K vocabulary (128,256 tokens) and 8 key-value heads everywhere.
MODELS: dict[str, ModelShape] = {
    "8b": ModelShape("8b", n_layers=32, dim=4096, ffn_dim=14336, n_heads=32, n_kv_heads=8, vocab_size=128256),
    "70b": ModelShape("70b", n_layers=80, dim=8192, ffn_dim=28672, n_heads=64, n_kv_heads=8, vocab_size=128256),
    "405b": ModelShape("405b", n_layers=126, dim=16384, ffn_dim=53248, n_heads=128, n_kv_heads=8, vocab_size=128256),
}


@dataclass(frozen=True)
class Hardware:
    """A cluster of identical GPUs. The defaults are docs/recipe.md section 3's H100 80GB
    servers: 8 GPUs joined by NVLink, RDMA (400 Gb/s per GPU) between servers. Bandwidths
    are what a collective achieves per GPU (NCCL bus bandwidth), not the link's peak."""

    gpu_memory_gib: float = 80.0
    gpus_per_node: int = 8
    peak_tflops: float = 989.0  # H100 SXM dense BF16
    hbm_tbps: float = 3.35  # H100 SXM HBM3 bandwidth, TB/s: the roof of memory-bound kernels
    # The achievable fraction of the dense peak (the compute roof): large cuBLAS BF16 GEMMs
    # reach ~75-80% of 989 TFLOP/s on H100 SXM (the peak assumes the boost clock, which the
    # 700 W power limit does not hold under sustained matmuls); FlashAttention-3's BF16
    # forward and backward reach ~55-75% (Shah et al., 2024).
    gemm_efficiency: float = 0.8
    attention_efficiency: float = 0.6
    memory_fraction: float = 0.9  # plan for at most this share of GPU memory (fragmentation, spikes)
    nvlink_gbps: float = 360.0  # GB/s per GPU inside a server (NVLink 4: 900 GB/s both ways, 450 one way; ~80% as bus bandwidth)
    network_gbps: float = 40.0  # GB/s per GPU between servers (IB 400 Gb/s = 50 GB/s; ~80% as bus bandwidth)
    reserved_gib: float = 5.0  # CUDA context, NCCL buffers, cuBLAS workspace, fragmentation
    pass_overhead_ms: float = 0.3  # kernel launches of one layer's forward + backward on one micro-batch
    nvlink_latency_us: float = 5.0  # per step of a ring collective inside a server
    network_latency_us: float = 20.0  # per step of a ring collective between servers
    tie_tolerance: float = 0.05  # plans this close to the fastest count as ties (see _choose)
    headroom_tolerance: float = 0.01  # ... and this close as equal, decided by free memory


@dataclass(frozen=True)
class Backend:
    """What a trainer backend runs, so that the planner offers only its layouts."""

    name: str
    pipeline: bool  # pp > 1
    context: bool  # cp > 1
    virtual_stages: bool  # interleaved 1F1B (model chunks per pipeline rank)
    recompute: bool  # activation checkpointing at all
    partial_recompute: bool  # full recompute of some of a stage's layers (else none/selective/full)


# plugins/nemo/trainer.py: one pipeline stage per rank (1F1B or GPipe, no interleaving) and
# recompute none | selective | full (NemoTrainerConfig.recompute). lib/training/parallelize.py:
# the torch backend runs TP and FSDP only, without activation checkpointing.
BACKENDS: dict[str, Backend] = {
    "nemo": Backend("nemo", pipeline=True, context=True, virtual_stages=False, recompute=True,
                    partial_recompute=False),
    "torch": Backend("torch", pipeline=False, context=False, virtual_stages=False, recompute=False,
                     partial_recompute=False),
}


@dataclass(frozen=True)
class Layout:
    tp: int
    cp: int
    pp: int
    dp: int
    micro_batch: int
    virtual_stages: int = 1  # interleaved 1F1B: model chunks per pipeline rank

    @property
    def world_size(self) -> int:
        return self.tp * self.cp * self.pp * self.dp


@dataclass
class Plan:
    """The chosen layout with its predicted memory (GiB, on the busiest GPU: pipeline
    stage 0) and step time (seconds), broken down by term."""

    model: str
    seq_len: int
    gpus: int
    batch_tokens: int
    layout: Layout
    checkpointing: "Checkpointing"
    layers_per_stage: int
    micro_batches: int  # per pipeline per step
    memory_gib: dict[str, float]
    time_s: dict[str, float]
    mfu_ceiling: float
    gpu_memory_gib: float
    hardware: Hardware = field(default_factory=Hardware)
    backend: str = "nemo"

    @property
    def memory_total_gib(self) -> float:
        return sum(self.memory_gib.values())

    @property
    def step_time_s(self) -> float:
        return sum(self.time_s.values())

    @property
    def activation_checkpointing(self) -> str:
        return self.checkpointing.describe(self.layers_per_stage)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "seq_len": self.seq_len,
            "gpus": self.gpus,
            "batch_tokens": self.batch_tokens,
            **{k: v for k, v in asdict(self.layout).items()},
            "activation_checkpointing": self.activation_checkpointing,
            "selective_recompute": self.checkpointing.selective,
            "checkpointed_layers_per_stage": self.checkpointing.full_layers,
            "layers_per_stage": self.layers_per_stage,
            "micro_batches_per_step": self.micro_batches,
            "memory_gib": {k: round(v, 2) for k, v in self.memory_gib.items()},
            "memory_total_gib": round(self.memory_total_gib, 2),
            "gpu_memory_gib": self.gpu_memory_gib,
            "time_s": {k: round(v, 4) for k, v in self.time_s.items()},
            "step_time_s": round(self.step_time_s, 4),
            "mfu_ceiling": round(self.mfu_ceiling, 4),
            "mesh_order": "tp (innermost, in-node) -> cp -> pp -> dp (outermost)",
        }


class InfeasibleLayout(ConfigError):
    """No layout exists for the request; ``nearest`` is the closest feasible request's plan."""

    def __init__(self, reason: str, nearest: Plan | None):
        self.reason = reason
        self.nearest = nearest
        hint = ""
        if nearest is not None:
            lay = nearest.layout
            hint = (
                f"; nearest feasible: {nearest.gpus} GPUs of {nearest.gpu_memory_gib:g} GiB with "
                f"TP {lay.tp}, CP {lay.cp}, PP {lay.pp}, DP {lay.dp}, micro-batch {lay.micro_batch}, "
                f"activation checkpointing {nearest.activation_checkpointing} "
                f"({nearest.memory_total_gib:.1f} GiB per GPU, MFU ceiling {nearest.mfu_ceiling:.0%})"
            )
        super().__init__(reason + hint)


def model_from_hf_config(path) -> ModelShape:
    """A Llama-style model's shape from a Hugging Face ``config.json``."""
    import json
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"planner: cannot read the Hugging Face config {path}: {exc}") from None
    keys = {"n_layers": "num_hidden_layers", "dim": "hidden_size", "ffn_dim": "intermediate_size",
            "n_heads": "num_attention_heads", "vocab_size": "vocab_size"}
    missing = [hf for hf in keys.values() if hf not in data]
    if missing:
        raise ConfigError(f"planner: {path} lacks {', '.join(missing)} (is it a decoder's config.json?)")
    shape = {ours: int(data[hf]) for ours, hf in keys.items()}
    shape["n_kv_heads"] = int(data.get("num_key_value_heads") or shape["n_heads"])
    return checked_shape(ModelShape(name=str(data.get("_name_or_path") or Path(path).parent.name or "model"), **shape))


def checked_shape(m: ModelShape) -> ModelShape:
    for key in ("n_layers", "dim", "ffn_dim", "n_heads", "n_kv_heads", "vocab_size"):
        if getattr(m, key) < 1:
            raise ConfigError(f"planner: the model's {key} must be at least 1, got {getattr(m, key)}")
    if m.dim % m.n_heads or m.n_heads % m.n_kv_heads:
        raise ConfigError(f"planner: hidden size {m.dim} must divide by {m.n_heads} heads, and the heads by "
                          f"{m.n_kv_heads} key-value heads")
    return m


def model_shape(name: str) -> ModelShape:
    key = name.lower()
    if key not in MODELS:
        raise ConfigError(f"unknown model size '{name}' for the planner (known: {', '.join(MODELS)})")
    return MODELS[key]


def divisors(n: int) -> list[int]:
    small = [d for d in range(1, int(math.isqrt(n)) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


# --------------------------------------------------------------------------- memory model


@dataclass(frozen=True)
class Checkpointing:
    """Activation checkpointing of one pipeline stage, cheapest first: ``selective``
    recomputes the element-wise ops (RMSNorm, SiLU, the SwiGLU product) and keeps every
    matmul's input and output; ``full_layers`` of the stage's layers additionally keep only
    their input and rerun their whole forward in the backward."""

    selective: bool = False
    full_layers: int = 0

    def describe(self, layers_per_stage: int) -> str:
        if self.full_layers == layers_per_stage:
            return "full"
        if self.full_layers:
            return f"selective + full on {self.full_layers} of {layers_per_stage} layers per stage"
        return "selective" if self.selective else "none"


def checkpointing_levels(layers_per_stage: int, backend: Backend | None = None):
    """Cheapest first; only what ``backend`` runs (default: every level)."""
    yield Checkpointing()
    if backend is not None and not backend.recompute:
        return
    if backend is not None and not backend.partial_recompute:
        yield Checkpointing(selective=True)
        yield Checkpointing(selective=True, full_layers=layers_per_stage)
        return
    for full in range(layers_per_stage + 1):
        yield Checkpointing(selective=True, full_layers=full)


def activation_bytes_per_token(m: ModelShape, selective: bool = False) -> int:
    """BF16 bytes one block keeps for its backward, per token, with flash attention (no
    s x s score matrix) and no tensor parallelism. Eager PyTorch keeps the two RMSNorm
    inputs and outputs (4 x dim), q and the attention output (2 x dim), k and v
    (2 x kv_dim), and the SwiGLU gate, up, silu(gate) and product (4 x ffn_dim). Selective
    recompute drops the norm outputs and silu(gate) and the product (recomputed from the
    kept norm inputs, gate and up)."""
    if selective:
        return 2 * (4 * m.dim + 2 * m.kv_dim + 2 * m.ffn_dim)
    return 2 * (6 * m.dim + 2 * m.kv_dim + 4 * m.ffn_dim)


def _in_flight_layer_microbatches(lay: Layout, layers_per_stage: int, micro_batches: int) -> float:
    """Layer activations pipeline stage 0 holds at its peak. Non-interleaved 1F1B keeps
    ``pp`` micro-batches in flight (pp x L/pp = L layers); interleaving with ``v`` chunks
    warms up 2(p-1) + (v-1)p + 1 chunks of L/(p v) layers, i.e. L (1 + (p-1)/(p v))."""
    p, v = lay.pp, lay.virtual_stages
    chunks_in_flight = min(micro_batches * v, 2 * (p - 1) + (v - 1) * p + 1)
    return chunks_in_flight * layers_per_stage / v


def memory_gib(
    m: ModelShape, seq_len: int, lay: Layout, hw: Hardware, ac: Checkpointing, micro_batches: int
) -> dict[str, float]:
    """Memory of pipeline stage 0 (it holds the embedding and the most activations)."""
    layers_per_stage = math.ceil(m.n_layers / lay.pp)
    stage_params = layers_per_stage * m.layer_params + m.embedding_params * (2 if lay.pp == 1 else 1)
    local_params = stage_params / lay.tp
    shard = lay.dp * lay.cp  # FSDP shards over the data and context parallel ranks
    tokens = lay.micro_batch * seq_len / lay.cp  # tokens of one micro-batch on one GPU
    # Sequence parallelism shards what TP does not, so every term divides by tp.
    kept = activation_bytes_per_token(m, ac.selective) * tokens / lay.tp
    checkpoint = 2 * m.dim * tokens / lay.tp  # a fully checkpointed layer keeps only its input
    in_flight = _in_flight_layer_microbatches(lay, layers_per_stage, micro_batches)
    fraction = ac.full_layers / layers_per_stage
    activations = in_flight * (fraction * checkpoint + (1 - fraction) * kept)
    if ac.full_layers:  # the layer being recomputed holds its activations for a moment
        activations += activation_bytes_per_token(m) * tokens / lay.tp
    if lay.pp == 1:  # the loss's logits live on the last stage, which is stage 0 here
        activations += tokens * m.vocab_size / lay.tp * (2 + 4)  # bf16 logits + fp32 softmax
    return {
        "weights_bf16": 2 * local_params / GIB,
        "grad_accum_fp32": 4 * local_params / GIB,
        "optimizer_fp32": 12 * local_params / shard / GIB,  # master weights, Adam m and v
        "activations": activations / GIB,
        "reserved": hw.reserved_gib,
    }


# --------------------------------------------------------------------------- time model


def flops_per_token(m: ModelShape, seq_len: int) -> float:
    """Training FLOPs per token: 6 x matmul weights (forward + backward) plus causal
    attention, 6 x layers x dim x seq_len (half of the full 12 L d s square)."""
    matmul = m.n_layers * (m.layer_params - 2 * m.dim) + m.embedding_params  # the output head
    return 6 * matmul + 6 * m.n_layers * m.dim * seq_len


def _ring_bytes(group: int, size: float) -> float:
    """Bytes one GPU sends in a ring all-gather or reduce-scatter of ``size`` bytes."""
    return (group - 1) / group * size


def _gemm_s(rows: float, inner: float, cols: float, hw: Hardware) -> float:
    """Roofline time of one BF16 GEMM: compute-bound at the achievable peak, or bound by
    reading both operands and writing the result from HBM, whichever is slower."""
    compute = 2 * rows * inner * cols / (hw.peak_tflops * 1e12 * hw.gemm_efficiency)
    memory = 2 * (rows * inner + inner * cols + rows * cols) / (hw.hbm_tbps * 1e12)
    return max(compute, memory)


def elementwise_s(m: ModelShape, tokens: float, tp: int, hw: Hardware) -> float:
    """Memory-bound kernels of one layer's forward (BF16, read + write at HBM bandwidth):
    2 RMSNorms (4 x dim), 2 residual adds (6 x dim), RoPE on q and k (2 x (dim + kv_dim)),
    SwiGLU's silu(gate) * up (3 x ffn_dim); sequence parallelism shards them over TP."""
    per_token = 10 * m.dim + 2 * (m.dim + m.kv_dim) + 3 * m.ffn_dim
    return 2 * tokens * per_token / tp / (hw.hbm_tbps * 1e12)


def layer_forward_s(m: ModelShape, seq_len: int, lay: Layout, hw: Hardware) -> float:
    """One layer's forward on one micro-batch on one GPU, from the roofline: the 7 GEMMs
    (q, k, v, o; gate, up, down) sharded over TP, causal flash attention (2 x seq x dim
    FLOPs per token) at its achievable rate, and the element-wise kernels."""
    t = lay.micro_batch * seq_len / lay.cp
    d, kv, f, tp = m.dim, m.kv_dim, m.ffn_dim, lay.tp
    shapes = [(t, d, d / tp), (t, d, kv / tp), (t, d, kv / tp), (t, d / tp, d),
              (t, d, f / tp), (t, d, f / tp), (t, f / tp, d)]
    gemms = sum(_gemm_s(*shape, hw) for shape in shapes)
    attention = 2 * t * seq_len * d / tp / (hw.peak_tflops * 1e12 * hw.attention_efficiency)
    return gemms + attention + elementwise_s(m, t, tp, hw)


def head_s(m: ModelShape, seq_len: int, lay: Layout, hw: Hardware) -> float:
    """The output head's forward and backward on one micro-batch (3 GEMMs of its shape) and
    the loss's softmax over the BF16 logits (read, fp32 write and read back)."""
    t = lay.micro_batch * seq_len / lay.cp
    logits = t * m.vocab_size / lay.tp * (2 + 4 + 4) / (hw.hbm_tbps * 1e12)
    return 3 * _gemm_s(t, m.dim, m.vocab_size / lay.tp, hw) + logits


def step_time_s(
    m: ModelShape, seq_len: int, lay: Layout, hw: Hardware, batch_seqs: int, ac: Checkpointing
) -> dict[str, float]:
    peak = hw.peak_tflops * 1e12
    layers_per_stage = math.ceil(m.n_layers / lay.pp)
    micro_batches = batch_seqs // lay.dp // lay.micro_batch
    forward = layer_forward_s(m, seq_len, lay, hw)
    # A backward pass costs two forwards (the input and the weight gradients), so a layer
    # trains in 3 forwards; a fully checkpointed layer reruns its forward, a selective one
    # its element-wise kernels. The head lives on the last stage: averaged over the stages.
    recompute = ac.full_layers * forward
    if ac.selective:
        recompute += layers_per_stage * elementwise_s(m, lay.micro_batch * seq_len / lay.cp, lay.tp, hw)
    per_micro_batch = layers_per_stage * 3 * forward + recompute + head_s(m, seq_len, lay, hw) / lay.pp
    compute = micro_batches * per_micro_batch
    bubble = compute * (lay.pp - 1) / (lay.virtual_stages * micro_batches)

    def link(inner_size: int) -> tuple[float, float]:
        """(bytes/s, seconds per ring step) of a group whose inner ranks span ``inner_size`` GPUs."""
        if inner_size > hw.gpus_per_node:
            return hw.network_gbps * 1e9, hw.network_latency_us * 1e-6
        return hw.nvlink_gbps * 1e9, hw.nvlink_latency_us * 1e-6

    def ring(group: int, size: float, span: int) -> float:
        """Seconds of one ring all-gather or reduce-scatter of ``size`` bytes over ``group``
        ranks that are ``span // group`` GPUs apart."""
        if group == 1:
            return 0.0
        bandwidth, latency = link(span)
        return _ring_bytes(group, size) / bandwidth + (group - 1) * latency

    act = lay.micro_batch * seq_len / lay.cp * m.dim * 2  # one micro-batch's hidden states, bf16
    layer_passes = micro_batches * layers_per_stage  # (micro-batch, layer) pairs per step
    overhead = layer_passes * hw.pass_overhead_ms * 1e-3
    # TP with sequence parallelism: 2 all-gathers + 2 reduce-scatters forward, as many
    # backward, and the forward's again for recomputed layers; inside the server.
    tp_collectives = 8 * layer_passes + 4 * micro_batches * ac.full_layers
    tp = tp_collectives * ring(lay.tp, act, lay.tp)
    # CP (all-gather based, as in Llama 3): gather K and V forward, reduce-scatter their
    # gradients backward; attention waits for them, so they are exposed.
    kv = 2 * lay.micro_batch * seq_len * m.kv_dim / lay.tp * 2
    cp = 2 * layer_passes * ring(lay.cp, kv, lay.tp * lay.cp)
    # PP: each micro-batch crosses every chunk boundary forward and backward; the hidden
    # state travels sequence-sharded over TP.
    pp = 0.0
    if lay.pp > 1:
        bandwidth, latency = link(lay.tp * lay.cp * lay.pp)
        pp = 2 * micro_batches * lay.virtual_stages * (act / lay.tp / bandwidth + latency)
    # DP (FSDP over dp x cp): all-gather the bf16 weights once per step (no resharding between
    # micro-batches) and reduce-scatter the fp32 gradients once (Llama 3 section 3.3.4). The
    # gather overlaps the first micro-batch's forward, the reduce-scatter the last backward.
    shard = lay.dp * lay.cp
    local_params = (layers_per_stage * m.layer_params + m.embedding_params) / lay.tp
    one_forward = layers_per_stage * forward  # one micro-batch's forward through the stage
    gather = ring(shard, 2 * local_params, lay.world_size)
    scatter = ring(shard, 4 * local_params, lay.world_size)
    dp = max(0.0, gather - one_forward) + max(0.0, scatter - 2 * one_forward)
    return {"compute": compute, "pipeline_bubble": bubble, "kernel_launch": overhead, "tp_comm": tp, "cp_comm": cp, "pp_comm": pp, "dp_comm": dp}


# --------------------------------------------------------------------------- search


def _candidate_layouts(m: ModelShape, seq_len: int, gpus: int, hw: Hardware, batch_seqs: int, backend: Backend):
    for tp in divisors(hw.gpus_per_node):
        if gpus % tp or m.n_kv_heads % tp or m.n_heads % tp:
            continue
        for cp in divisors(gpus // tp):
            if cp > 1 and (not backend.context or seq_len % (2 * cp)):  # causal balance: 2 chunks per CP rank
                continue
            if tp < hw.gpus_per_node and cp > 1:  # TP fills the server before CP starts
                continue
            for pp in divisors(gpus // (tp * cp)):
                if pp > m.n_layers or (pp > 1 and not backend.pipeline):
                    continue
                dp = gpus // (tp * cp * pp)
                if batch_seqs % dp:
                    continue
                per_dp = batch_seqs // dp
                layers_per_stage = math.ceil(m.n_layers / pp)
                # 1F1B needs at least pp micro-batches per step to fill the pipeline.
                for mb in (d for d in divisors(per_dp) if d <= 8 and per_dp // d >= pp):
                    for v in divisors(layers_per_stage) if pp > 1 and backend.virtual_stages else [1]:
                        yield Layout(tp=tp, cp=cp, pp=pp, dp=dp, micro_batch=mb, virtual_stages=v)


def _fit(m: ModelShape, seq_len: int, lay: Layout, hw: Hardware, micro_batches: int, backend: Backend):
    """The cheapest activation checkpointing the backend runs that fits in the planned
    share of memory (``hw.memory_fraction``), or None."""
    for ac in checkpointing_levels(math.ceil(m.n_layers / lay.pp), backend):
        mem = memory_gib(m, seq_len, lay, hw, ac, micro_batches)
        if sum(mem.values()) <= hw.gpu_memory_gib * hw.memory_fraction:
            return ac, mem
    return None


def evaluate_layout(
    model: str | ModelShape, seq_len: int, lay: Layout, *, batch_tokens: int = 16 * 2**20,
    hardware: Hardware | None = None, backend: Backend | None = None,
) -> Plan | None:
    """The prediction for one given layout (None when it does not fit in memory)."""
    m = model if isinstance(model, ModelShape) else model_shape(model)
    hw = hardware or Hardware()
    backend = backend or BACKENDS["nemo"]
    batch_seqs = batch_tokens // seq_len
    micro_batches = batch_seqs // lay.dp // lay.micro_batch
    fit = _fit(m, seq_len, lay, hw, micro_batches, backend)
    if fit is None:
        return None
    ac, mem = fit
    times = step_time_s(m, seq_len, lay, hw, batch_seqs, ac)
    useful = batch_tokens * flops_per_token(m, seq_len) / lay.world_size / (hw.peak_tflops * 1e12)
    return Plan(
        model=m.name, seq_len=seq_len, gpus=lay.world_size, batch_tokens=batch_tokens, layout=lay,
        checkpointing=ac, layers_per_stage=math.ceil(m.n_layers / lay.pp), micro_batches=micro_batches,
        memory_gib=mem, time_s=times, mfu_ceiling=useful / sum(times.values()),
        gpu_memory_gib=hw.gpu_memory_gib, hardware=hw, backend=backend.name,
    )


def _best(m: ModelShape, seq_len: int, gpus: int, hw: Hardware, batch_tokens: int,
          backend: Backend) -> tuple[Plan | None, str]:
    batch_seqs = batch_tokens // seq_len
    plans: list[Plan] = []
    smallest: tuple[float, Layout] | None = None
    candidates = 0
    for lay in _candidate_layouts(m, seq_len, gpus, hw, batch_seqs, backend):
        candidates += 1
        plan = evaluate_layout(m, seq_len, lay, batch_tokens=batch_tokens, hardware=hw, backend=backend)
        if plan is not None:
            plans.append(plan)
            continue
        micro_batches = batch_seqs // lay.dp // lay.micro_batch
        full = list(checkpointing_levels(math.ceil(m.n_layers / lay.pp), backend))[-1]
        need = sum(memory_gib(m, seq_len, lay, hw, full, micro_batches).values())
        if smallest is None or need < smallest[0]:
            smallest = (need, lay)
    if plans:
        return _choose(plans, hw), ""
    if candidates == 0 and gpus > hw.gpus_per_node and gpus % hw.gpus_per_node:
        return None, f"{gpus} GPUs is not a whole number of {hw.gpus_per_node}-GPU servers"
    if candidates == 0:
        return None, (
            f"no layout divides {gpus} GPUs ({hw.gpus_per_node} per server) and a global batch of "
            f"{batch_seqs} sequences of {seq_len} tokens: dp must divide the batch, tp the server "
            f"and the model's {m.n_kv_heads} key-value heads, cp the sequence"
        )
    need, lay = smallest  # type: ignore[misc]
    return None, (
        f"{m.name} at {seq_len} tokens does not fit in {hw.gpu_memory_gib:g} GiB per GPU on {gpus} GPUs "
        f"(planning for {hw.memory_fraction:.0%} of it) with the {backend.name} backend: the smallest layout "
        f"(TP {lay.tp}, CP {lay.cp}, PP {lay.pp}, DP {lay.dp}, its most activation checkpointing) needs {need:.1f} GiB"
    )


def _choose(plans: list[Plan], hw: Hardware) -> Plan:
    """The fastest plan, with two tie-breaks for predictions closer than the model's error:
    among plans within ``hw.tie_tolerance`` of the fastest, the smallest CP wins (the
    recipe adds context parallelism only for long sequences: it splits every attention
    call, which the model prices only by its traffic); among those, plans within
    ``hw.headroom_tolerance`` of the fastest count as equal and the one with the most free
    memory wins (less risk of running out when fragmentation or a longer document shifts
    the peak)."""
    fastest = min(p.step_time_s for p in plans)
    close = [p for p in plans if p.step_time_s <= fastest * (1 + hw.tie_tolerance)]
    min_cp = min(p.layout.cp for p in close)
    same_cp = [p for p in close if p.layout.cp == min_cp]
    fastest_cp = min(p.step_time_s for p in same_cp)
    equal = [p for p in same_cp if p.step_time_s <= fastest_cp * (1 + hw.headroom_tolerance)]
    return min(equal, key=lambda p: (p.memory_total_gib, p.step_time_s))


def plan_layout(
    model: str | ModelShape,
    seq_len: int,
    gpus: int,
    gpu_memory_gib: float = 80.0,
    *,
    batch_tokens: int = 16 * 2**20,
    hardware: Hardware | None = None,
    backend: str = "nemo",
) -> Plan:
    """The fastest layout that fits, or ``InfeasibleLayout`` naming why none does and the
    nearest request that works. ``batch_tokens`` defaults to docs/recipe.md section 4's 16M."""
    m = model if isinstance(model, ModelShape) else model_shape(model)
    hw = replace(hardware or Hardware(), gpu_memory_gib=gpu_memory_gib)
    if backend not in BACKENDS:
        raise ConfigError(f"planner: unknown backend '{backend}' (known: {', '.join(BACKENDS)})")
    chosen = BACKENDS[backend]
    _check_request(m, seq_len, gpus, hw, batch_tokens)
    plan, reason = _best(m, seq_len, gpus, hw, batch_tokens, chosen)
    if plan is not None:
        return plan
    raise InfeasibleLayout(reason, _nearest(m, seq_len, gpus, hw, batch_tokens, chosen))


def _check_request(m: ModelShape, seq_len: int, gpus: int, hw: Hardware, batch_tokens: int) -> None:
    if not 0 < hw.memory_fraction <= 1:
        raise ConfigError(f"planner: --memory-fraction must be in (0, 1], got {hw.memory_fraction:g}")
    if seq_len <= 0 or gpus <= 0 or batch_tokens <= 0 or hw.gpu_memory_gib <= 0:
        raise ConfigError(
            f"planner: --seq ({seq_len}), --gpus ({gpus}), --batch-tokens ({batch_tokens}) and "
            f"--gpu-memory ({hw.gpu_memory_gib:g}) must be positive"
        )
    if batch_tokens % seq_len:
        raise ConfigError(
            f"planner: the global batch of {batch_tokens} tokens is not a whole number of "
            f"{seq_len}-token sequences; pick --batch-tokens as a multiple of --seq"
        )


def _nearest(m: ModelShape, seq_len: int, gpus: int, hw: Hardware, batch_tokens: int,
             backend: Backend) -> Plan | None:
    """The feasible GPU count closest to ``gpus`` (fewer first on ties): whole servers
    nearby, then powers of two further away when the model needs many more GPUs."""
    node = hw.gpus_per_node
    base = max(node, gpus - gpus % node)
    tried: set[int] = {gpus}
    for step in range(0, 64):
        for count in (base - step * node, base + step * node):
            if count <= 0 or count in tried:
                continue
            tried.add(count)
            plan, _ = _best(m, seq_len, count, hw, batch_tokens, backend)
            if plan is not None:
                return plan
    count = 2 ** math.ceil(math.log2(max(gpus, node)))
    while count <= 2**20:
        if count not in tried:
            plan, _ = _best(m, seq_len, count, hw, batch_tokens, backend)
            if plan is not None:
                return plan
        count *= 2
    return None


def recompute_setting(ac: Checkpointing, layers_per_stage: int) -> str:
    """The backend's ``recompute`` value for a checkpointing level it runs."""
    if ac.full_layers == layers_per_stage and ac.full_layers:
        return "full"
    if ac.full_layers:
        raise ConfigError(f"checkpointing '{ac.describe(layers_per_stage)}' has no recompute setting")
    return "selective" if ac.selective else "none"


def set_lines(plan: Plan, model: ModelShape) -> list[str]:
    """The ``--set`` overrides that make ``herd train`` / ``herd run`` use the plan."""
    lay = plan.layout
    lines = [f"pretrain.trainer={plan.backend}"]
    if model.name in MODELS and MODELS[model.name] == model:
        lines.append(f"pretrain.model_size={model.name}")
    else:  # any named size, every shape key overridden
        shape = {"n_layers": model.n_layers, "dim": model.dim, "ffn_dim": model.ffn_dim,
                 "n_heads": model.n_heads, "n_kv_heads": model.n_kv_heads}
        lines += ["pretrain.model_size=8b",
                  "pretrain.model_overrides={" + ", ".join(f"{k} = {v}" for k, v in shape.items()) + "}"]
    lines.append(f"pretrain.vocab_size={model.vocab_size}")
    lines += [f"pretrain.tp={lay.tp}", f"pretrain.cp={lay.cp}", f"pretrain.pp={lay.pp}", f"pretrain.dp={lay.dp}",
              f"trainers.{plan.backend}.micro_batch_rows={lay.micro_batch}"]
    if plan.backend == "nemo":
        lines.append(f"trainers.nemo.recompute={recompute_setting(plan.checkpointing, plan.layers_per_stage)}")
    return lines


ASSUMPTIONS = (
    "roofline per kernel: GEMMs at min(80% of 989 TFLOP/s dense BF16, 3.35 TB/s HBM), flash attention at 60%, "
    "element-wise kernels at HBM bandwidth; collectives at ~80% of NVLink (900 GB/s both ways) and of "
    "400 Gb/s InfiniBand per GPU; bubbles, recompute and exposed communication counted"
)


def format_plan(plan: Plan, model: ModelShape | None = None) -> str:
    lay = plan.layout
    limit = plan.gpu_memory_gib * plan.hardware.memory_fraction
    lines = [
        f"{plan.model} at {plan.seq_len} tokens on {plan.gpus} GPUs with the {plan.backend} backend "
        f"({plan.batch_tokens / 2**20:g}M tokens per step, {plan.batch_tokens // plan.seq_len} sequences)",
        f"  layout        TP {lay.tp} x CP {lay.cp} x PP {lay.pp} x DP {lay.dp}  "
        "(innermost first: TP inside a server, then CP, PP, DP)",
        f"  micro-batch   {lay.micro_batch} sequence(s), {plan.micro_batches} per pipeline per step"
        + (f", {lay.virtual_stages} virtual stage(s) per pipeline rank" if lay.virtual_stages > 1 else ""),
        f"  checkpointing {plan.activation_checkpointing} ({plan.layers_per_stage} layers per stage)",
        f"  memory/GPU    {plan.memory_total_gib:.1f} GiB, planned within {limit:.1f} of {plan.gpu_memory_gib:g} GiB "
        f"({plan.hardware.memory_fraction:.0%}): " + ", ".join(f"{k} {v:.1f}" for k, v in plan.memory_gib.items()),
        f"  step time     {plan.step_time_s:.2f} s: " + ", ".join(f"{k} {v:.2f}" for k, v in plan.time_s.items()),
        f"  MFU ceiling   {plan.mfu_ceiling:.0%} ({ASSUMPTIONS})",
    ]
    if model is not None:
        lines.append("  apply it with")
        lines += [f"    --set {line}" for line in set_lines(plan, model)]
    return "\n".join(lines)
