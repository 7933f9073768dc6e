#!/usr/bin/env python3
"""The training step of bench/Camelid.TrainingBenchmarks in PyTorch (1.13, float32, CPU), for comparison.

    /usr/bin/python3 bench/training/torch_step.py --shape stories15m --seq 256 --micro-batch 4 --steps 3 --threads 2 [--json]

Same model and step as the Camelid benchmark: a LLaMA (RMSNorm, interleaved-pair RoPE, grouped-query attention
by repeating the kv heads, SwiGLU, untied output head) with random weights; uniform random token ids, every
position trained; per step zero_grad, forward, mean cross-entropy, backward, clip_grad_norm_(1.0) and AdamW
(lr 3e-4, weight decay 0.1 on matrices only). --grad-checkpointing recomputes each block in the backward pass
(torch.utils.checkpoint). Attention is the explicit masked softmax (torch 1.13 has no scaled_dot_product_attention).

Threads: torch.set_num_threads(N), and OMP_NUM_THREADS / OPENBLAS_NUM_THREADS are set to N before torch loads.
Debian's python3-torch does its float32 matrix products in whatever libblas.so.3 the system provides; with only
the reference BLAS (libblas3) that runs at ~1.5 GFLOP/s, so the output names the BLAS library it found and warns.
--json prints one JSON object with the Camelid benchmark's field names on stdout; progress goes to stderr.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

SHAPES = {
    # TinyLlama/TinyLlama-1.1B-Chat-v1.0 config.json; karpathy/tinyllamas stories15M.bin; LLaMA-1 7B.
    "tinyllama-1.1b": dict(dim=2048, hidden_dim=5632, layers=22, heads=32, kv_heads=4, vocab_size=32000, eps=1e-5, rope_theta=10000.0),
    "stories15m": dict(dim=288, hidden_dim=768, layers=6, heads=6, kv_heads=6, vocab_size=32000, eps=1e-5, rope_theta=10000.0),
    "llama-7b": dict(dim=4096, hidden_dim=11008, layers=32, heads=32, kv_heads=32, vocab_size=32000, eps=1e-6, rope_theta=10000.0),
}

LEARNING_RATE = 3e-4
WEIGHT_DECAY = 0.1
MAX_GRADIENT_NORM = 1.0


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="stories15m", help="stories15m, tinyllama-1.1b, llama-7b or a config.json-style file")
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--grad-checkpointing", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    for name in ("seq", "micro_batch", "steps", "threads"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return arguments


def resolve_shape(name_or_path):
    if name_or_path.lower() in SHAPES:
        return name_or_path.lower(), SHAPES[name_or_path.lower()]
    if not os.path.isfile(name_or_path):
        sys.exit(f"error: unknown shape '{name_or_path}': use one of {', '.join(SHAPES)} or a config.json-style file")
    with open(name_or_path) as f:
        config = json.load(f)
    heads = config["num_attention_heads"]
    return os.path.splitext(os.path.basename(name_or_path))[0], dict(
        dim=config["hidden_size"], hidden_dim=config["intermediate_size"], layers=config["num_hidden_layers"], heads=heads,
        kv_heads=config.get("num_key_value_heads", heads), vocab_size=config["vocab_size"],
        eps=config.get("rms_norm_eps", 1e-5), rope_theta=config.get("rope_theta", 10000.0))


def build_model(torch, shape, seq, checkpointing):
    nn = torch.nn
    F = torch.nn.functional
    dim, heads, kv_heads = shape["dim"], shape["heads"], shape["kv_heads"]
    head_size = dim // heads

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(dim))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + shape["eps"]) * self.weight

    def rotate(x, cos, sin):
        # x (batch, length, heads, head_size); pairs (2i, 2i+1) turn by position·θ_i, as in Meta's code.
        pairs = x.view(*x.shape[:-1], head_size // 2, 2)
        x0, x1 = pairs[..., 0], pairs[..., 1]
        return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            kv_dim = kv_heads * head_size
            self.attention_norm = RMSNorm()
            self.wq = nn.Linear(dim, dim, bias=False)
            self.wk = nn.Linear(dim, kv_dim, bias=False)
            self.wv = nn.Linear(dim, kv_dim, bias=False)
            self.wo = nn.Linear(dim, dim, bias=False)
            self.ffn_norm = RMSNorm()
            self.w1 = nn.Linear(dim, shape["hidden_dim"], bias=False)
            self.w2 = nn.Linear(shape["hidden_dim"], dim, bias=False)
            self.w3 = nn.Linear(dim, shape["hidden_dim"], bias=False)

        def forward(self, x, cos, sin, mask):
            batch, length, _ = x.shape
            n = self.attention_norm(x)
            q = rotate(self.wq(n).view(batch, length, heads, head_size), cos, sin).transpose(1, 2)
            k = rotate(self.wk(n).view(batch, length, kv_heads, head_size), cos, sin).transpose(1, 2)
            v = self.wv(n).view(batch, length, kv_heads, head_size).transpose(1, 2)
            if kv_heads != heads:
                k = k.repeat_interleave(heads // kv_heads, dim=1)
                v = v.repeat_interleave(heads // kv_heads, dim=1)
            scores = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(head_size)) + mask
            o = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, length, dim)
            x = x + self.wo(o)
            n = self.ffn_norm(x)
            return x + self.w2(F.silu(self.w1(n)) * self.w3(n))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(shape["vocab_size"], dim)
            self.blocks = nn.ModuleList(Block() for _ in range(shape["layers"]))
            self.norm = RMSNorm()
            self.output = nn.Linear(dim, shape["vocab_size"], bias=False)
            inverse_frequencies = 1.0 / shape["rope_theta"] ** (torch.arange(0, head_size, 2, dtype=torch.float64) / head_size)
            angles = torch.outer(torch.arange(seq, dtype=torch.float64), inverse_frequencies)
            self.register_buffer("cos", angles.cos().float().view(seq, 1, head_size // 2), persistent=False)
            self.register_buffer("sin", angles.sin().float().view(seq, 1, head_size // 2), persistent=False)
            self.register_buffer("mask", torch.full((seq, seq), float("-inf")).triu(1), persistent=False)
            # llama2.c's model.py initialisation; the cost of a step does not depend on it.
            residual_std = 0.02 / math.sqrt(2 * shape["layers"])
            for name, parameter in self.named_parameters():
                if parameter.dim() == 2:
                    std = residual_std if name.endswith(("wo.weight", "w2.weight")) else 0.02
                    nn.init.normal_(parameter, mean=0.0, std=std)

        def forward(self, tokens):
            length = tokens.shape[1]
            cos, sin, mask = self.cos[:length], self.sin[:length], self.mask[:length, :length]
            x = self.embedding(tokens)
            for block in self.blocks:
                if checkpointing:
                    x = torch.utils.checkpoint.checkpoint(block, x, cos, sin, mask, use_reentrant=False)
                else:
                    x = block(x, cos, sin, mask)
            return self.output(self.norm(x))

    return Llama()


def loaded_blas():
    """The BLAS shared library this process has mapped (after a matrix product), from /proc/self/maps."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    except OSError:
        return None
    optimised = [p for p in paths if "openblas" in p or "mkl" in p or "blis" in p]
    return sorted(optimised or paths)[0] if paths else None


def saved_activation_bytes(torch, model, tokens, targets, vocab):
    """Bytes of the tensors autograd keeps for the backward pass of one forward (weights excluded), each storage once."""
    weights = {p.data_ptr() for p in model.parameters()}
    storages = {}

    def pack(tensor):
        storage = tensor.storage()
        if storage.data_ptr() not in weights:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = torch.nn.functional.cross_entropy(model(tokens).view(-1, vocab), targets.view(-1))
    del loss
    return sum(storages.values())


def main():
    arguments = parse_arguments()
    threads = str(arguments.threads)
    os.environ["OMP_NUM_THREADS"] = threads
    os.environ["OPENBLAS_NUM_THREADS"] = threads
    import torch
    import torch.utils.checkpoint

    log = sys.stderr if arguments.json else sys.stdout
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(arguments.seed)
    name, shape = resolve_shape(arguments.shape)
    seq, rows = arguments.seq, arguments.micro_batch
    tokens_per_step = seq * rows
    print(f"{name}: dim {shape['dim']}, hidden {shape['hidden_dim']}, {shape['layers']} layers, {shape['heads']} heads ({shape['kv_heads']} kv), "
          f"vocab {shape['vocab_size']}, untied head; PyTorch {torch.__version__}", file=log)
    print(f"seq {seq} × micro-batch {rows} = {tokens_per_step} tokens per step, {torch.get_num_threads()} threads, "
          f"gradient checkpointing {'on' if arguments.grad_checkpointing else 'off'}", file=log)

    started = time.perf_counter()
    model = build_model(torch, shape, seq, arguments.grad_checkpointing)
    parameters = list(model.parameters())
    count = sum(p.numel() for p in parameters)
    print(f"{count / 1e6:.1f}M parameters initialised in {time.perf_counter() - started:.1f} s", file=log)
    matrices = [p for p in parameters if p.dim() == 2]
    vectors = [p for p in parameters if p.dim() < 2]
    optimizer = torch.optim.AdamW([dict(params=matrices, weight_decay=WEIGHT_DECAY), dict(params=vectors, weight_decay=0.0)],
                                  lr=LEARNING_RATE, betas=(0.9, 0.999), eps=1e-8)

    vocab = shape["vocab_size"]
    generator = torch.Generator().manual_seed(arguments.seed + 1)
    sequences = [torch.randint(0, vocab, (rows, seq + 1), generator=generator) for _ in range(arguments.warmup + arguments.steps)]
    blas = None
    steps = []
    for i, sequence in enumerate(sequences):
        tokens, targets = sequence[:, :-1].contiguous(), sequence[:, 1:].contiguous()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=False)
        zeroed = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(tokens).view(-1, vocab), targets.view(-1))
        forward = time.perf_counter()
        loss.backward()
        backward = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(parameters, MAX_GRADIENT_NORM)
        optimizer.step()
        updated = time.perf_counter()
        blas = blas or loaded_blas()
        step = dict(seconds=updated - start, tokens_per_second=tokens_per_step / (updated - start),
                    forward_seconds=forward - zeroed, backward_seconds=backward - forward,
                    forward_backward_seconds=backward - zeroed, optimizer_seconds=(zeroed - start) + (updated - backward), loss=loss.item())
        warm_up = i < arguments.warmup
        if not warm_up:
            steps.append(step)
        print(f"{'warm-up' if warm_up else 'step'} {i + 1 if warm_up else i - arguments.warmup + 1}: {step['seconds']:.3f} s, "
              f"{step['tokens_per_second']:.1f} tokens/s (forward {step['forward_seconds']:.3f} s, backward {step['backward_seconds']:.3f} s, "
              f"optimizer {step['optimizer_seconds']:.3f} s), loss {step['loss']:.4f}", file=log)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    if blas is None or "/blas/libblas" in blas:
        print(f"warning: PyTorch's matrix products go through {blas or 'an unknown BLAS'}, which looks like the reference (netlib) BLAS: "
              "install libopenblas0-openmp or point LD_LIBRARY_PATH at an optimised libblas.so.3 for a meaningful comparison", file=sys.stderr)

    # Measured after the peak was read, with checkpointing off only (the checkpoint's own hooks hide the blocks' tensors).
    activations = None if arguments.grad_checkpointing else saved_activation_bytes(torch, model, sequences[-1][:, :-1].contiguous(), sequences[-1][:, 1:].contiguous(), vocab)

    def mean(key):
        return sum(s[key] for s in steps) / len(steps)

    rates = [s["tokens_per_second"] for s in steps]
    rate_mean = sum(rates) / len(rates)
    rate_std = math.sqrt(sum((r - rate_mean) ** 2 for r in rates) / (len(rates) - 1)) if len(rates) > 1 else 0.0
    kv_dim = shape["kv_heads"] * (shape["dim"] // shape["heads"])
    matrix_weights = shape["layers"] * (2 * shape["dim"] ** 2 + 2 * shape["dim"] * kv_dim + 3 * shape["dim"] * shape["hidden_dim"]) + vocab * shape["dim"]
    flops_per_token = 6.0 * matrix_weights + 6.0 * shape["layers"] * shape["dim"] * seq
    state_elements = sum(t.numel() for state in optimizer.state.values() for t in state.values() if torch.is_tensor(t) and t.dim() > 0)
    report = dict(
        engine="pytorch", runtime=f"PyTorch {torch.__version__}", blas=blas, shape=name,
        dim=shape["dim"], hidden_dim=shape["hidden_dim"], layers=shape["layers"], heads=shape["heads"], kv_heads=shape["kv_heads"], vocab_size=vocab,
        seq=seq, micro_batch=rows, tokens_per_step=tokens_per_step, threads=torch.get_num_threads(),
        grad_checkpointing=arguments.grad_checkpointing, warmup=arguments.warmup, steps=arguments.steps, parameters=count,
        tokens_per_second_mean=rate_mean, tokens_per_second_std=rate_std, step_seconds_mean=mean("seconds"),
        forward_backward_seconds_mean=mean("forward_backward_seconds"), optimizer_seconds_mean=mean("optimizer_seconds"),
        forward_seconds_mean=mean("forward_seconds"), backward_seconds_mean=mean("backward_seconds"),
        model_gflop_per_token=flops_per_token / 1e9, model_gflops=flops_per_token * rate_mean / 1e9,
        parameter_bytes=4 * count, gradient_bytes=4 * sum(p.grad.numel() for p in parameters if p.grad is not None),
        optimizer_state_bytes=4 * state_elements, activation_bytes=activations, peak_rss_bytes=peak_rss, load_average=load_average,
        step_times=steps)
    if arguments.json:
        print(json.dumps(report, indent=2))
        return
    mib = 1 << 20
    share = lambda seconds: f"{100 * seconds / report['step_seconds_mean']:.0f} %"
    print()
    print(f"{'tokens/s':<18}{rate_mean:.1f} ± {rate_std:.1f} ({len(steps)} steps of {tokens_per_step} tokens, {report['step_seconds_mean']:.3f} s per step)")
    print(f"{'forward+backward':<18}{report['forward_backward_seconds_mean']:.3f} s per step ({share(report['forward_backward_seconds_mean'])}: "
          f"forward {report['forward_seconds_mean']:.3f}, backward {report['backward_seconds_mean']:.3f})")
    print(f"{'optimizer':<18}{report['optimizer_seconds_mean']:.3f} s per step ({share(report['optimizer_seconds_mean'])}: zeroing, clipping, AdamW)")
    print(f"{'model FLOPs':<18}{report['model_gflop_per_token']:.3f} GFLOP per token, {report['model_gflops']:.1f} GFLOP/s")
    print(f"{'memory':<18}parameters {report['parameter_bytes'] / mib:.1f} MiB, gradients {report['gradient_bytes'] / mib:.1f} MiB, "
          f"AdamW moments {report['optimizer_state_bytes'] / mib:.1f} MiB, saved activations "
          + (f"{activations / mib:.1f} MiB" if activations is not None else "not measured (checkpointing)"))
    print(f"{'peak resident':<18}{peak_rss / mib:.1f} MiB (ru_maxrss)")
    if load_average is not None:
        print(f"{'load average':<18}{load_average:.2f} (1 minute, {os.cpu_count()} cores)")
    print(f"{'BLAS':<18}{blas}")


if __name__ == "__main__":
    main()
