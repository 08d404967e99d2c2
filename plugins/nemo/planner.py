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
    nvlink_gbps: float = 360.0  # GB/s per GPU inside a server (NVLink 4: 450 GB/s peak)
    network_gbps: float = 40.0  # GB/s per GPU between servers (400 Gb/s = 50 GB/s peak)
    reserved_gib: float = 5.0  # CUDA context, NCCL buffers, cuBLAS workspace, fragmentation
    pass_overhead_ms: float = 0.3  # kernel launches of one layer's forward + backward on one micro-batch
    nvlink_latency_us: float = 5.0  # per step of a ring collective inside a server
    network_latency_us: float = 20.0  # per step of a ring collective between servers
    selective_recompute_cost: float = 0.03  # element-wise recompute, as a fraction of layer compute
    tie_tolerance: float = 0.05  # plans this close to the fastest count as ties (see _choose)
    headroom_tolerance: float = 0.01  # ... and this close as equal, decided by free memory


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


def checkpointing_levels(layers_per_stage: int):
    yield Checkpointing()
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


def step_time_s(
    m: ModelShape, seq_len: int, lay: Layout, hw: Hardware, batch_seqs: int, ac: Checkpointing
) -> dict[str, float]:
    peak = hw.peak_tflops * 1e12
    layers_per_stage = math.ceil(m.n_layers / lay.pp)
    micro_batches = batch_seqs // lay.dp // lay.micro_batch
    tokens_per_gpu = batch_seqs * seq_len / (lay.dp * lay.cp)  # each pipeline rank sees all of them
    layer_flops_token = 6 * (m.layer_params - 2 * m.dim) + 6 * m.dim * seq_len
    # Stage 0 does layers_per_stage layers; the last stage the output head (it has a layer
    # less when the layers do not divide evenly, as in the Llama 3 405B pipeline).
    stage_flops = tokens_per_gpu * layers_per_stage * layer_flops_token / lay.tp
    head_flops = tokens_per_gpu * 6 * m.embedding_params / lay.tp / lay.pp
    # A full recompute reruns the layer's forward (a third of its training FLOPs); the
    # selective one reruns memory-bound element-wise kernels, costed as a fraction of the layer.
    recompute = tokens_per_gpu * ac.full_layers * layer_flops_token / 3 / lay.tp
    if ac.selective:
        recompute += hw.selective_recompute_cost * stage_flops
    compute = (stage_flops + head_flops + recompute) / peak
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
    one_forward = (stage_flops + head_flops) / micro_batches / 3 / peak
    gather = ring(shard, 2 * local_params, lay.world_size)
    scatter = ring(shard, 4 * local_params, lay.world_size)
    dp = max(0.0, gather - one_forward) + max(0.0, scatter - 2 * one_forward)
    return {"compute": compute, "pipeline_bubble": bubble, "kernel_launch": overhead, "tp_comm": tp, "cp_comm": cp, "pp_comm": pp, "dp_comm": dp}


# --------------------------------------------------------------------------- search


def _candidate_layouts(m: ModelShape, seq_len: int, gpus: int, hw: Hardware, batch_seqs: int):
    for tp in divisors(hw.gpus_per_node):
        if gpus % tp or m.n_kv_heads % tp or m.n_heads % tp:
            continue
        for cp in divisors(gpus // tp):
            if cp > 1 and seq_len % (2 * cp):  # causal load balancing: 2 chunks per CP rank
                continue
            if tp < hw.gpus_per_node and cp > 1:  # TP fills the server before CP starts
                continue
            for pp in divisors(gpus // (tp * cp)):
                if pp > m.n_layers:
                    continue
                dp = gpus // (tp * cp * pp)
                if batch_seqs % dp:
                    continue
                per_dp = batch_seqs // dp
                layers_per_stage = math.ceil(m.n_layers / pp)
                # 1F1B needs at least pp micro-batches per step to fill the pipeline.
                for mb in (d for d in divisors(per_dp) if d <= 8 and per_dp // d >= pp):
                    for v in divisors(layers_per_stage) if pp > 1 else [1]:
                        yield Layout(tp=tp, cp=cp, pp=pp, dp=dp, micro_batch=mb, virtual_stages=v)


def _fit(m: ModelShape, seq_len: int, lay: Layout, hw: Hardware, micro_batches: int):
    """The cheapest activation checkpointing that fits in memory, or None."""
    for ac in checkpointing_levels(math.ceil(m.n_layers / lay.pp)):
        mem = memory_gib(m, seq_len, lay, hw, ac, micro_batches)
        if sum(mem.values()) <= hw.gpu_memory_gib:
            return ac, mem
    return None


def evaluate_layout(
    model: str | ModelShape, seq_len: int, lay: Layout, *, batch_tokens: int = 16 * 2**20,
    hardware: Hardware | None = None,
) -> Plan | None:
    """The prediction for one given layout (None when it does not fit in memory)."""
    m = model if isinstance(model, ModelShape) else model_shape(model)
    hw = hardware or Hardware()
    batch_seqs = batch_tokens // seq_len
    micro_batches = batch_seqs // lay.dp // lay.micro_batch
    fit = _fit(m, seq_len, lay, hw, micro_batches)
    if fit is None:
        return None
    ac, mem = fit
    times = step_time_s(m, seq_len, lay, hw, batch_seqs, ac)
    useful = batch_tokens * flops_per_token(m, seq_len) / lay.world_size / (hw.peak_tflops * 1e12)
    return Plan(
        model=m.name, seq_len=seq_len, gpus=lay.world_size, batch_tokens=batch_tokens, layout=lay,
        checkpointing=ac, layers_per_stage=math.ceil(m.n_layers / lay.pp), micro_batches=micro_batches,
        memory_gib=mem, time_s=times, mfu_ceiling=useful / sum(times.values()),
        gpu_memory_gib=hw.gpu_memory_gib, hardware=hw,
    )


def _best(m: ModelShape, seq_len: int, gpus: int, hw: Hardware, batch_tokens: int) -> tuple[Plan | None, str]:
    batch_seqs = batch_tokens // seq_len
    plans: list[Plan] = []
    smallest: tuple[float, Layout] | None = None
    candidates = 0
    for lay in _candidate_layouts(m, seq_len, gpus, hw, batch_seqs):
        candidates += 1
        plan = evaluate_layout(m, seq_len, lay, batch_tokens=batch_tokens, hardware=hw)
        if plan is not None:
            plans.append(plan)
            continue
        micro_batches = batch_seqs // lay.dp // lay.micro_batch
        full = Checkpointing(selective=True, full_layers=math.ceil(m.n_layers / lay.pp))
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
        f"{m.name} at {seq_len} tokens does not fit in {hw.gpu_memory_gib:g} GiB per GPU on {gpus} GPUs: "
        f"the smallest layout (TP {lay.tp}, CP {lay.cp}, PP {lay.pp}, DP {lay.dp}, full activation "
        f"checkpointing) needs {need:.1f} GiB"
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
) -> Plan:
    """The fastest layout that fits, or ``InfeasibleLayout`` naming why none does and the
    nearest request that works. ``batch_tokens`` defaults to docs/recipe.md section 4's 16M."""
    m = model if isinstance(model, ModelShape) else model_shape(model)
    hw = replace(hardware or Hardware(), gpu_memory_gib=gpu_memory_gib)
    _check_request(m, seq_len, gpus, hw, batch_tokens)
    plan, reason = _best(m, seq_len, gpus, hw, batch_tokens)
    if plan is not None:
        return plan
    raise InfeasibleLayout(reason, _nearest(m, seq_len, gpus, hw, batch_tokens))


def _check_request(m: ModelShape, seq_len: int, gpus: int, hw: Hardware, batch_tokens: int) -> None:
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


def _nearest(m: ModelShape, seq_len: int, gpus: int, hw: Hardware, batch_tokens: int) -> Plan | None:
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
            plan, _ = _best(m, seq_len, count, hw, batch_tokens)
            if plan is not None:
                return plan
    count = 2 ** math.ceil(math.log2(max(gpus, node)))
    while count <= 2**20:
        if count not in tried:
            plan, _ = _best(m, seq_len, count, hw, batch_tokens)
            if plan is not None:
                return plan
        count *= 2
    return None


def format_plan(plan: Plan) -> str:
    lay = plan.layout
    lines = [
        f"{plan.model} at {plan.seq_len} tokens on {plan.gpus} GPUs "
        f"({plan.batch_tokens / 2**20:g}M tokens per step, {plan.batch_tokens // plan.seq_len} sequences)",
        f"  layout        TP {lay.tp} x CP {lay.cp} x PP {lay.pp} x DP {lay.dp}  "
        "(innermost first: TP inside a server, then CP, PP, DP)",
        f"  micro-batch   {lay.micro_batch} sequence(s), {plan.micro_batches} per pipeline per step, "
        f"{lay.virtual_stages} virtual stage(s) per pipeline rank",
        f"  checkpointing {plan.activation_checkpointing} ({plan.layers_per_stage} layers per stage)",
        f"  memory/GPU    {plan.memory_total_gib:.1f} of {plan.gpu_memory_gib:g} GiB: "
        + ", ".join(f"{k} {v:.1f}" for k, v in plan.memory_gib.items()),
        f"  step time     {plan.step_time_s:.2f} s: " + ", ".join(f"{k} {v:.2f}" for k, v in plan.time_s.items()),
        f"  MFU ceiling   {plan.mfu_ceiling:.1%} (kernels at peak; bubbles, recompute and exposed communication counted)",
    ]
    return "\n".join(lines)
