#!/usr/bin/python3
"""PyTorch reference for Camelid's training engine (tests/fixtures/training/*.safetensors).

In the spirit of llm.c's test_gpt2.c: for one fixed batch, the fixture holds the inputs, targets, logits,
loss and the gradient of every parameter, then the loss path, learning rates, pre-clip gradient norms and
final weights of 10 optimizer steps on that batch. Everything is computed in float64 by autograd.

Model (llama2.c model.py / Meta LLaMA): RMSNorm x * rsqrt(mean(x^2) + 1e-5) * w; Linear y = x @ W.T;
RoPE on q and k over interleaved pairs (2i, 2i+1) of each head with angle pos * 10000^(-2i/headSize),
positions 0..T-1 in every row; causal softmax(q.k / sqrt(headSize)) attention where query head h reads
kv head h // (heads / kvHeads); SwiGLU FFN W2(silu(W1 n) * W3 n); output_norm, then the head
(output.weight, or token_embd.weight when tied). Loss: cross-entropy, targets == -1 ignored, one mean over
every non-ignored position of the batch.

Training, as Hugging Face's Trainer runs it: torch.optim.AdamW with weight decay 0.1 on 2-D parameters and
0 on 1-D ones, lr 1e-3, betas (0.9, 0.95), eps 1e-8; per step: backward, clip_grad_norm_(1.0), step, then
the cosine-with-warmup schedule (2 warmup steps of 10) advances, so step 0 runs with lr 0.

Models:
  stories260k  the llama2.c checkpoint ../shared/data/models/stories260K.bin (tied head). Its weights are
               not stored; the metadata holds the file's SHA-256.
  random-gqa   dim 48, hidden 100, 2 layers, 6 heads over 2 kv heads, vocab 67, untied head; weights drawn
               from torch.Generator(1234), rounded to float32 and stored as param.<name>.

Before writing, the script checks its forward against the independent numpy forward of
make_logits_fixtures.py, a few gradient entries against central differences, and stories260K's greedy
continuation against stories260K.expected_t0_n200.txt.

Usage: /usr/bin/python3 tools/make_training_fixtures.py
"""
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

TOOLS_DIR = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.normpath(os.path.join(TOOLS_DIR, "..", "tests", "fixtures", "training"))
MODELS_DIR = os.path.normpath(os.path.join(TOOLS_DIR, "..", "..", "shared", "data", "models"))

RMS_EPS = 1e-5
ROPE_THETA = 10000.0
IGNORE_INDEX = -1
BATCH = 2
DATA_SEED = 42

LEARNING_RATE = 1e-3
BETAS = (0.9, 0.95)
ADAM_EPS = 1e-8
MATRIX_WEIGHT_DECAY = 0.1
MAX_GRAD_NORM = 1.0
WARMUP_STEPS = 2
TOTAL_STEPS = 10

LAYER_TENSORS = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_down", "ffn_up"]


# ---------------------------------------------------------------- configuration and weights

def kv_dim(cfg):
    return cfg["dim"] // cfg["heads"] * cfg["kv_heads"]


def parameter_shapes(cfg):
    """GGUF name -> shape, in the order the optimizer sees the parameters."""
    d, h, kv = cfg["dim"], cfg["hidden_dim"], kv_dim(cfg)
    per_layer = {"attn_norm": (d,), "attn_q": (d, d), "attn_k": (kv, d), "attn_v": (kv, d), "attn_output": (d, d),
                 "ffn_norm": (d,), "ffn_gate": (h, d), "ffn_down": (d, h), "ffn_up": (h, d)}
    shapes = {"token_embd.weight": (cfg["vocab"], d)}
    for layer in range(cfg["layers"]):
        for role in LAYER_TENSORS:
            shapes[f"blk.{layer}.{role}.weight"] = per_layer[role]
    shapes["output_norm.weight"] = (d,)
    if not cfg["tied"]:
        shapes["output.weight"] = (cfg["vocab"], d)
    return shapes


def read_llama2c(path):
    """llama2.c legacy (version 0) checkpoint: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
    vocab_size, seq_len; a negative vocab_size means a separate classifier), then float32 arrays
    token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_cis_real, freq_cis_imag
    and, only when unshared, wcls. Returns (cfg, {GGUF name: float64 tensor})."""
    with open(path, "rb") as f:
        raw = f.read()
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack_from("<7i", raw, 0)
    tied = vocab > 0
    cfg = {"dim": dim, "hidden_dim": hidden, "layers": layers, "heads": heads, "kv_heads": kv_heads,
           "vocab": abs(vocab), "tied": tied, "seq_len": seq_len}
    head_size, kv = dim // heads, kv_dim(cfg)
    offset = 28

    def take(*shape):
        nonlocal offset
        count = int(np.prod(shape))
        values = np.frombuffer(raw, dtype="<f4", count=count, offset=offset).reshape(shape)
        offset += 4 * count
        return torch.tensor(values.astype(np.float64))

    L, V = layers, cfg["vocab"]
    stacked = {"token_embd": take(V, dim), "attn_norm": take(L, dim), "attn_q": take(L, dim, dim),
               "attn_k": take(L, kv, dim), "attn_v": take(L, kv, dim), "attn_output": take(L, dim, dim),
               "ffn_norm": take(L, dim), "ffn_gate": take(L, hidden, dim), "ffn_down": take(L, dim, hidden),
               "ffn_up": take(L, hidden, dim), "output_norm": take(dim)}
    take(seq_len, head_size // 2)  # freq_cis_real: RoPE is recomputed from theta
    take(seq_len, head_size // 2)  # freq_cis_imag
    if not tied:
        stacked["output"] = take(V, dim)
    if offset != len(raw):
        sys.exit(f"{path}: read {offset} of {len(raw)} bytes; the header does not describe this file")
    weights = {"token_embd.weight": stacked["token_embd"], "output_norm.weight": stacked["output_norm"]}
    for layer in range(L):
        for role in LAYER_TENSORS:
            weights[f"blk.{layer}.{role}.weight"] = stacked[role][layer]
    if not tied:
        weights["output.weight"] = stacked["output"]
    assert set(weights) == set(parameter_shapes(cfg))
    return cfg, {name: weights[name] for name in parameter_shapes(cfg)}


def random_weights(cfg, seed):
    """Matrices N(0, 0.15), norm weights 1 + N(0, 0.1), drawn in parameter order and rounded to float32 so
    that the stored param.<name> is exactly the starting point."""
    generator = torch.Generator().manual_seed(seed)
    weights = {}
    for name, shape in parameter_shapes(cfg).items():
        noise = torch.randn(shape, generator=generator, dtype=torch.float64)
        w = 0.15 * noise if len(shape) == 2 else 1.0 + 0.1 * noise
        weights[name] = w.float().double()
    return weights


def make_batch(cfg, T):
    generator = torch.Generator().manual_seed(DATA_SEED)
    inputs = torch.randint(0, cfg["vocab"], (BATCH, T), generator=generator)
    targets = torch.randint(0, cfg["vocab"], (BATCH, T), generator=generator)
    targets[0, 0:6] = IGNORE_INDEX
    targets[1, T - 3:] = IGNORE_INDEX
    targets[1, 7] = IGNORE_INDEX
    return inputs, targets


# ---------------------------------------------------------------- model (float64)

def rms_norm(x, weight):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + RMS_EPS) * weight


def rope_interleaved(x, positions):
    """x (B, T, heads, headSize): rotates pairs (2i, 2i+1) by pos * theta^(-2i/headSize)."""
    head_size = x.shape[-1]
    inv_freq = ROPE_THETA ** (-torch.arange(0, head_size, 2, dtype=torch.float64) / head_size)
    angle = positions[:, None] * inv_freq[None, :]  # (T, headSize/2)
    cos, sin = angle.cos()[None, :, None, :], angle.sin()[None, :, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)


def forward(w, cfg, tokens):
    """tokens (B, T) -> logits (B, T, vocab)."""
    B, T = tokens.shape
    heads, kv_heads = cfg["heads"], cfg["kv_heads"]
    head_size = cfg["dim"] // heads
    positions = torch.arange(T, dtype=torch.float64)
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    x = w["token_embd.weight"][tokens]
    for layer in range(cfg["layers"]):
        p = lambda role: w[f"blk.{layer}.{role}.weight"]
        n = rms_norm(x, p("attn_norm"))
        q = rope_interleaved((n @ p("attn_q").T).view(B, T, heads, head_size), positions)
        k = rope_interleaved((n @ p("attn_k").T).view(B, T, kv_heads, head_size), positions)
        v = (n @ p("attn_v").T).view(B, T, kv_heads, head_size)
        group = heads // kv_heads
        k, v = k.repeat_interleave(group, dim=2), v.repeat_interleave(group, dim=2)
        scores = torch.einsum("bthd,bshd->bhts", q, k) / math.sqrt(head_size)
        attention = scores.masked_fill(causal, float("-inf")).softmax(-1)
        heads_out = torch.einsum("bhts,bshd->bthd", attention, v).reshape(B, T, cfg["dim"])
        x = x + heads_out @ p("attn_output").T
        n = rms_norm(x, p("ffn_norm"))
        x = x + (F.silu(n @ p("ffn_gate").T) * (n @ p("ffn_up").T)) @ p("ffn_down").T
    head = w["token_embd.weight"] if cfg["tied"] else w["output.weight"]
    return rms_norm(x, w["output_norm.weight"]) @ head.T


def cross_entropy(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX)


# ---------------------------------------------------------------- training

def cosine_with_warmup(step):
    """transformers.get_cosine_schedule_with_warmup's multiplier (num_cycles 0.5)."""
    if step < WARMUP_STEPS:
        return step / max(1, WARMUP_STEPS)
    progress = (step - WARMUP_STEPS) / max(1, TOTAL_STEPS - WARMUP_STEPS)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


def train(weights, cfg, inputs, targets):
    params = {name: torch.nn.Parameter(t.clone()) for name, t in weights.items()}
    groups = [{"params": [p for p in params.values() if p.dim() == 2], "weight_decay": MATRIX_WEIGHT_DECAY},
              {"params": [p for p in params.values() if p.dim() == 1], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=LEARNING_RATE, betas=BETAS, eps=ADAM_EPS)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup)
    losses, learning_rates, grad_norms = [], [], []
    for _ in range(TOTAL_STEPS):
        optimizer.zero_grad(set_to_none=True)
        loss = cross_entropy(forward(params, cfg, inputs), targets)
        loss.backward()
        losses.append(loss.item())
        grad_norms.append(torch.nn.utils.clip_grad_norm_(list(params.values()), MAX_GRAD_NORM).item())
        learning_rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    with torch.no_grad():
        losses.append(cross_entropy(forward(params, cfg, inputs), targets).item())
    return losses, learning_rates, grad_norms, {name: p.detach() for name, p in params.items()}


# ---------------------------------------------------------------- independent checks

def check_against_numpy_forward(weights, cfg, inputs, logits):
    """make_logits_fixtures.py's numpy forward: one row at a time, per-head loops, its own RoPE."""
    sys.path.insert(0, TOOLS_DIR)
    import make_logits_fixtures as reference
    w = {"embed": weights["token_embd.weight"].numpy(), "final_norm": weights["output_norm.weight"].numpy()}
    w["out"] = w["embed"] if cfg["tied"] else weights["output.weight"].numpy()
    roles = {"attn_norm": "attn_norm", "attn_q": "wq", "attn_k": "wk", "attn_v": "wv", "attn_output": "wo",
             "ffn_norm": "ffn_norm", "ffn_gate": "w1", "ffn_down": "w2", "ffn_up": "w3"}
    for layer in range(cfg["layers"]):
        for role, short in roles.items():
            w[layer, short] = weights[f"blk.{layer}.{role}.weight"].numpy()
    ref_cfg = {"dim": cfg["dim"], "n_heads": cfg["heads"], "n_kv_heads": cfg["kv_heads"], "n_layers": cfg["layers"],
               "rms_eps": RMS_EPS, "rope_theta": ROPE_THETA, "rope_scaling": None}
    inv = reference.inverse_frequencies(ref_cfg)
    worst = 0.0
    for row in range(inputs.shape[0]):
        expected = reference.forward(w, ref_cfg, inputs[row].numpy(), True, inv)
        worst = max(worst, np.abs(expected - logits[row].numpy()).max() / np.abs(expected).max())
    print(f"  forward vs numpy reference (make_logits_fixtures.py): max rel diff {worst:.2e}")
    assert worst < 1e-12, worst


def check_gradients_by_central_differences(weights, cfg, inputs, targets, grads):
    """One entry of every parameter (the one with the largest gradient) against (L(w+h) - L(w-h)) / 2h."""
    worst, h = 0.0, 1e-6
    for name, grad in grads.items():
        index = np.unravel_index(int(grad.abs().argmax()), grad.shape)
        moved = {}
        for sign in (1, -1):
            w = dict(weights)
            w[name] = weights[name].clone()
            w[name][index] += sign * h
            moved[sign] = cross_entropy(forward(w, cfg, inputs), targets).item()
        numeric = (moved[1] - moved[-1]) / (2 * h)
        worst = max(worst, abs(numeric - grad[index].item()) / max(abs(numeric), 1e-8))
    print(f"  autograd vs central differences (largest entry of each of {len(grads)} parameters): max rel diff {worst:.2e}")
    assert worst < 1e-5, worst


def check_greedy_continuation(weights, cfg, steps=20):
    """llama2.c's `run stories260K.bin -t 0` continues BOS (token 1) greedily; the expected text is its output."""
    tokens = [1]
    with torch.no_grad():
        for _ in range(steps):
            tokens.append(int(forward(weights, cfg, torch.tensor([tokens]))[0, -1].argmax()))
    with open(os.path.join(MODELS_DIR, "stories260K.expected_t0_n200.txt"), encoding="utf-8") as f:
        expected = f.read()
    try:
        import sentencepiece
    except ImportError:
        print(f"  greedy tokens {tokens[1:]}; sentencepiece is not installed, so the text was not compared")
        return
    processor = sentencepiece.SentencePieceProcessor(model_file=os.path.join(MODELS_DIR, "tok512.model"))
    text = processor.decode(tokens[1:])
    print(f"  greedy continuation of BOS, {steps} tokens: {text!r}")
    assert expected.startswith(text), f"expected text starts {expected[:len(text) + 20]!r}"
    print("  matches the start of stories260K.expected_t0_n200.txt")


# ---------------------------------------------------------------- safetensors

DTYPES = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64", np.dtype("<i4"): "I32"}


def write_safetensors(path, tensors, metadata):
    """8-byte little-endian header length, JSON header, then the tensors packed back to back.
    F64 tensors go first so that every tensor is aligned to its element size."""
    order = sorted(tensors, key=lambda name: -tensors[name].dtype.itemsize)
    header, offset = {"__metadata__": metadata}, 0
    for name in order:
        a = tensors[name]
        header[name] = {"dtype": DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            f.write(np.ascontiguousarray(tensors[name]).tobytes())
    return os.path.getsize(path)


# ---------------------------------------------------------------- fixtures

def build(name, cfg, weights, T, store_weights, extra_metadata):
    print(f"{name}:")
    inputs, targets = make_batch(cfg, T)
    params = {n: t.clone().requires_grad_(True) for n, t in weights.items()}
    logits = forward(params, cfg, inputs)
    loss = cross_entropy(logits, targets)
    loss.backward()
    grads = {n: p.grad.detach() for n, p in params.items()}
    logits = logits.detach()

    check_against_numpy_forward(weights, cfg, inputs, logits)
    check_gradients_by_central_differences(weights, cfg, inputs, targets, grads)
    losses, learning_rates, grad_norms, final = train(weights, cfg, inputs, targets)
    assert losses[0] == loss.item()

    f32 = lambda t: t.numpy().astype("<f4")
    f64 = lambda values: np.asarray(values, dtype="<f8")
    tensors = {"inputs": inputs.numpy().astype("<i4"), "targets": targets.numpy().astype("<i4"),
               "logits": f32(logits), "loss": f64([loss.item()]), "losses": f64(losses),
               "learning_rates": f64(learning_rates), "grad_norms": f64(grad_norms)}
    for n in weights:
        if store_weights:
            tensors["param." + n] = f32(weights[n])
        tensors["grad." + n] = f32(grads[n])
        tensors["final." + n] = f32(final[n])

    metadata = {
        "dim": cfg["dim"], "hidden_dim": cfg["hidden_dim"], "layers": cfg["layers"], "heads": cfg["heads"],
        "kv_heads": cfg["kv_heads"], "vocab": cfg["vocab"], "rms_eps": RMS_EPS, "rope_theta": ROPE_THETA,
        "tied": "true" if cfg["tied"] else "false", "batch": BATCH, "seq_len": T, "ignore_index": IGNORE_INDEX,
        "data_seed": DATA_SEED, "loss": "cross-entropy, mean over the non-ignored positions of the whole batch",
        "optimizer": "torch.optim.AdamW", "lr": LEARNING_RATE, "beta1": BETAS[0], "beta2": BETAS[1],
        "adam_eps": ADAM_EPS, "weight_decay_matrices": MATRIX_WEIGHT_DECAY, "weight_decay_norms": 0.0,
        "max_grad_norm": MAX_GRAD_NORM, "grad_clip": "torch.nn.utils.clip_grad_norm_: scale = max_norm / (total_norm + 1e-6) when below 1",
        "lr_schedule": "cosine_with_warmup", "warmup_steps": WARMUP_STEPS, "total_steps": TOTAL_STEPS,
        "precision": "float64 autograd; tensors stored as F32, scalar series as F64",
        "torch_version": torch.__version__, "generator": "tools/make_training_fixtures.py",
    } | extra_metadata
    metadata = {k: str(v) if not isinstance(v, bool) else str(v).lower() for k, v in metadata.items()}

    path = os.path.join(OUT_DIR, name + ".safetensors")
    size = write_safetensors(path, tensors, metadata)
    max_grad = max(g.abs().max().item() for g in grads.values())
    print(f"  {path}: {size} bytes")
    print(f"  loss {loss.item():.6f} -> {losses[-1]:.6f} after {TOTAL_STEPS} steps; max |grad| {max_grad:.4g}")
    print(f"  losses {[round(v, 6) for v in losses]}")
    print(f"  grad norms (pre-clip) {[round(v, 4) for v in grad_norms]}")
    print(f"  learning rates {learning_rates}")


def main():
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT_DIR, exist_ok=True)

    bin_path = os.path.join(MODELS_DIR, "stories260K.bin")
    cfg, weights = read_llama2c(bin_path)
    assert cfg["tied"], "stories260K.bin is expected to share its classifier with the embedding"
    with open(bin_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    build("stories260k", cfg, weights, 20, False,
          {"source": "stories260K.bin (llama2.c checkpoint, version 0)", "source_sha256": digest})
    check_greedy_continuation(weights, cfg)

    seed = 1234
    cfg = {"dim": 48, "hidden_dim": 100, "layers": 2, "heads": 6, "kv_heads": 2, "vocab": 67, "tied": False}
    build("random-gqa", cfg, random_weights(cfg, seed), 13, True,
          {"source": "random: matrices N(0, 0.15), norms 1 + N(0, 0.1), torch.Generator seed 1234, rounded to F32",
           "weight_seed": seed})


if __name__ == "__main__":
    main()
