#!/usr/bin/python3
"""PyTorch reference for Camelid's LoRA (tests/fixtures/lora/*).

LoRA as PEFT's lora.Linear computes it (dropout 0): y = x @ W.T + s * (x @ A.T) @ B.T, A (r, in), B (out, r),
s = lora_alpha / r. Because that equals x @ (W + s * B @ A).T, the model of make_training_fixtures.py runs on
the effective weights and autograd gives dL/dA and dL/dB; the base weights are frozen.

Fixtures:
  stories260k-qv.safetensors   stories260K (../shared/data/models/stories260K.bin), LoRA r=8, alpha=16 on q and v
    (FastChat's default targets). Holds: a gradient point (A ~ U(-1/sqrt(in), 1/sqrt(in)) as PEFT's
    kaiming_uniform_(a=sqrt(5)) draws it, and B ~ N(0, 0.02) so that every gradient is non-zero) with the loss,
    logits and dL/dA, dL/dB; then 10 AdamW steps from PEFT's initialisation (same A, B = 0) with the losses,
    pre-clip gradient norms and the final A and B.
  random-gqa-all.safetensors   the random GQA model of make_training_fixtures.py (untied head), LoRA r=4,
    alpha=8 on all seven projections and on the output head ("output"), a gradient point as above.
  peft-stories260k-qv/         the trained adapter of stories260k-qv written as PEFT writes it:
    adapter_config.json (LoraConfig.to_dict() field names) and adapter_model.safetensors with PEFT's tensor names
    (base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight, ...). Hugging Face's q_proj/k_proj rows
    are permuted for rotate-half RoPE, so lora_B of q_proj (and k_proj) has its rows in HF's order: HF row
    r * headSize/2 + i of a head is Meta row 2i + r. Also logits of the adapted model on the fixture batch.

Tensor names in the .safetensors fixtures: A and B as "lora_a.blk.{i}.{attn_q|...}" / "lora_b...." (Camelid's
Meta row order); step-0 gradients "grad_a..."/"grad_b..."; the trained ones "final_a..."/"final_b...".

Usage: /usr/bin/python3 tools/make_lora_fixtures.py
"""
import json
import math
import os
import sys

import numpy as np
import torch

TOOLS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TOOLS_DIR)
import make_training_fixtures as base  # noqa: E402

OUT_DIR = os.path.normpath(os.path.join(TOOLS_DIR, "..", "tests", "fixtures", "lora"))

ROLES = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output", "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}
HEAD = "head"  # LoRA on the output head (PEFT's lm_head); one for the model, stored under layer -1 as "output"
PEFT_MODULES = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj",
                "gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"}

LEARNING_RATE = 3e-3
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
WEIGHT_DECAY = 0.0
MAX_GRAD_NORM = 1.0
STEPS = 10


def lora_shapes(cfg, targets, rank):
    """(layer, target) -> (A shape, B shape)."""
    d, h, kv = cfg["dim"], cfg["hidden_dim"], base.kv_dim(cfg)
    io = {"q": (d, d), "k": (d, kv), "v": (d, kv), "o": (d, d), "gate": (d, h), "up": (d, h), "down": (h, d), HEAD: (d, cfg["vocab"])}
    shapes = {(layer, t): ((rank, io[t][0]), (io[t][1], rank)) for layer in range(cfg["layers"]) for t in targets if t != HEAD}
    if HEAD in targets:
        shapes[-1, HEAD] = ((rank, d), (cfg["vocab"], rank))
    return shapes


def key(layer, target):
    return "output" if target == HEAD else f"blk.{layer}.{ROLES[target]}"


def initial_adapter(cfg, targets, rank, seed, b_std):
    generator = torch.Generator().manual_seed(seed)
    adapter = {}
    for (layer, target), (a_shape, b_shape) in lora_shapes(cfg, targets, rank).items():
        bound = 1.0 / math.sqrt(a_shape[1])  # kaiming_uniform_(a=sqrt(5)): sqrt(6 / ((1 + 5) * fan_in))
        a = (torch.rand(a_shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound
        b = torch.randn(b_shape, generator=generator, dtype=torch.float64) * b_std
        adapter[layer, target] = (a.float().double(), b.float().double())
    return adapter


def effective(weights, adapter, scale):
    w = dict(weights)
    for (layer, target), (a, b) in adapter.items():
        name = key(layer, target) + ".weight"
        assert name in weights, f"{name}: a head adapter needs an untied head here"
        w[name] = weights[name] + scale * (b @ a)
    return w


def loss_of(weights, adapter, scale, cfg, inputs, targets):
    logits = base.forward(effective(weights, adapter, scale), cfg, inputs)
    return base.cross_entropy(logits, targets), logits


def gradient_point(weights, cfg, adapter, scale, inputs, targets):
    params = {k: (a.clone().requires_grad_(True), b.clone().requires_grad_(True)) for k, (a, b) in adapter.items()}
    loss, logits = loss_of(weights, params, scale, cfg, inputs, targets)
    loss.backward()
    grads = {k: (a.grad.detach(), b.grad.detach()) for k, (a, b) in params.items()}
    # central differences on the largest entry of each tensor
    worst, h = 0.0, 1e-6
    for k, (ga, gb) in grads.items():
        for which, g in ((0, ga), (1, gb)):
            index = np.unravel_index(int(g.abs().argmax()), g.shape)
            moved = {}
            for sign in (1, -1):
                shifted = dict(adapter)
                pair = [adapter[k][0].clone(), adapter[k][1].clone()]
                pair[which][index] += sign * h
                shifted[k] = tuple(pair)
                moved[sign] = loss_of(weights, shifted, scale, cfg, inputs, targets)[0].item()
            numeric = (moved[1] - moved[-1]) / (2 * h)
            worst = max(worst, abs(numeric - g[index].item()) / max(abs(numeric), 1e-8))
    print(f"  autograd vs central differences on LoRA A and B: max rel diff {worst:.2e}")
    assert worst < 1e-5, worst
    return loss.item(), logits.detach(), grads


def train(weights, cfg, adapter, scale, inputs, targets):
    params = {k: (torch.nn.Parameter(a.clone()), torch.nn.Parameter(b.clone())) for k, (a, b) in adapter.items()}
    flat = [t for pair in params.values() for t in pair]
    optimizer = torch.optim.AdamW(flat, lr=LEARNING_RATE, betas=BETAS, eps=ADAM_EPS, weight_decay=WEIGHT_DECAY)
    losses, norms = [], []
    for _ in range(STEPS):
        optimizer.zero_grad(set_to_none=True)
        loss, _ = loss_of(weights, params, scale, cfg, inputs, targets)
        loss.backward()
        losses.append(loss.item())
        norms.append(torch.nn.utils.clip_grad_norm_(flat, MAX_GRAD_NORM).item())
        optimizer.step()
    with torch.no_grad():
        losses.append(loss_of(weights, params, scale, cfg, inputs, targets)[0].item())
    return losses, norms, {k: (a.detach(), b.detach()) for k, (a, b) in params.items()}


def to_rotate_half_rows(meta, heads):
    """Meta's interleaved-pair rows -> Hugging Face's rotate-half rows, per head (convert_llama_weights_to_hf's permute)."""
    rows = meta.shape[0]
    head_size = rows // heads
    hf = torch.empty_like(meta)
    for h in range(heads):
        for i in range(head_size // 2):
            for r in range(2):
                hf[h * head_size + r * head_size // 2 + i] = meta[h * head_size + 2 * i + r]
    return hf


def write_peft(folder, cfg, adapter, rank, alpha, targets):
    """adapter_config.json with LoraConfig.to_dict()'s fields, adapter_model.safetensors with PEFT's names."""
    os.makedirs(folder, exist_ok=True)
    tensors = {}
    for (layer, target), (a, b) in adapter.items():
        if target == "q":
            b = to_rotate_half_rows(b, cfg["heads"])
        elif target == "k":
            b = to_rotate_half_rows(b, cfg["kv_heads"])
        prefix = f"base_model.model.model.layers.{layer}.{PEFT_MODULES[target]}"
        tensors[prefix + ".lora_A.weight"] = a.numpy().astype("<f4")
        tensors[prefix + ".lora_B.weight"] = b.numpy().astype("<f4")
    base.write_safetensors(os.path.join(folder, "adapter_model.safetensors"), tensors, {"format": "pt"})
    config = {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "stories260K", "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True, "layer_replication": None,
        "layers_pattern": None, "layers_to_transform": None, "loftq_config": {}, "lora_alpha": alpha,
        "lora_dropout": 0.0, "megatron_config": None, "megatron_core": "megatron.core", "modules_to_save": None,
        "peft_type": "LORA", "r": rank, "rank_pattern": {}, "revision": None,
        "target_modules": sorted(PEFT_MODULES[t].split(".")[1] for t in targets), "task_type": "CAUSAL_LM",
        "use_dora": False, "use_rslora": False,
    }
    with open(os.path.join(folder, "adapter_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def build(name, cfg, weights, T, targets, rank, alpha, seed, train_too):
    print(f"{name}:")
    scale = alpha / rank
    inputs, targets_ids = base.make_batch(cfg, T)
    point = initial_adapter(cfg, targets, rank, seed, b_std=0.02)
    loss, logits, grads = gradient_point(weights, cfg, point, scale, inputs, targets_ids)
    f32 = lambda t: t.numpy().astype("<f4")
    f64 = lambda values: np.asarray(values, dtype="<f8")
    tensors = {"inputs": inputs.numpy().astype("<i4"), "targets": targets_ids.numpy().astype("<i4"),
               "logits": f32(logits), "loss": f64([loss])}
    for k, (a, b) in point.items():
        tensors["lora_a." + key(*k)], tensors["lora_b." + key(*k)] = f32(a), f32(b)
        tensors["grad_a." + key(*k)], tensors["grad_b." + key(*k)] = f32(grads[k][0]), f32(grads[k][1])
    trained = None
    if train_too:
        peft_init = {k: (a, torch.zeros_like(b)) for k, (a, b) in point.items()}
        losses, norms, trained = train(weights, cfg, peft_init, scale, inputs, targets_ids)
        tensors["losses"], tensors["grad_norms"] = f64(losses), f64(norms)
        for k, (a, b) in trained.items():
            tensors["final_a." + key(*k)], tensors["final_b." + key(*k)] = f32(a), f32(b)
        with torch.no_grad():
            tensors["trained_logits"] = f32(base.forward(effective(weights, trained, scale), cfg, inputs))
        print(f"  losses {[round(v, 6) for v in losses]}")
        print(f"  grad norms (pre-clip) {[round(v, 5) for v in norms]}")
    metadata = {
        "dim": cfg["dim"], "hidden_dim": cfg["hidden_dim"], "layers": cfg["layers"], "heads": cfg["heads"],
        "kv_heads": cfg["kv_heads"], "vocab": cfg["vocab"], "tied": str(cfg["tied"]).lower(), "seq_len": T,
        "rank": rank, "alpha": alpha, "scale": scale, "targets": ",".join(targets), "dropout": 0.0,
        "optimizer": "torch.optim.AdamW over A and B only", "lr": LEARNING_RATE, "beta1": BETAS[0], "beta2": BETAS[1],
        "adam_eps": ADAM_EPS, "weight_decay": WEIGHT_DECAY, "max_grad_norm": MAX_GRAD_NORM, "steps": STEPS,
        "lr_schedule": "constant", "precision": "float64 autograd; tensors stored as F32, series as F64",
        "torch_version": torch.__version__, "generator": "tools/make_lora_fixtures.py",
    }
    path = os.path.join(OUT_DIR, name + ".safetensors")
    size = base.write_safetensors(path, tensors, {k: str(v) for k, v in metadata.items()})
    print(f"  {path}: {size} bytes; loss at the gradient point {loss:.6f}")
    return trained


def main():
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT_DIR, exist_ok=True)
    cfg, weights = base.read_llama2c(os.path.join(base.MODELS_DIR, "stories260K.bin"))
    trained = build("stories260k-qv", cfg, weights, 20, ["q", "v"], 8, 16, 7, True)
    write_peft(os.path.join(OUT_DIR, "peft-stories260k-qv"), cfg, trained, 8, 16, ["q", "v"])

    gqa = {"dim": 48, "hidden_dim": 100, "layers": 2, "heads": 6, "kv_heads": 2, "vocab": 67, "tied": False}
    build("random-gqa-all", gqa, base.random_weights(gqa, 1234), 13, list(ROLES) + [HEAD], 4, 8, 11, False)


if __name__ == "__main__":
    main()
