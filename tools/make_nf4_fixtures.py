#!/usr/bin/python3
"""Reference NF4 quantizations (QLoRA's frozen-base format) for Camelid.Tensors' Nf4Tests.

Re-implements, in float32 numpy, what bitsandbytes does for
    bnb.functional.quantize_4bit(W, quant_type="nf4", blocksize=64, compress_statistics=True)
on its CUDA path (csrc/kernels.cu: kQuantizeBlockwise, dQuantizeNF4, dQuantize<0>;
bitsandbytes/functional.py: quantize_4bit, create_dynamic_map, dequantize_4bit), since bitsandbytes
itself cannot be installed here. The rules it follows:

  * W is flattened row-major and cut into blocks of 64; the last block may be partial. absmax is the
    largest |w| of the block; each element is scaled by the float32 reciprocal, x = w * (1/absmax).
  * NF4 index = number of decision thresholds strictly below x, the thresholds being the constants of
    bitsandbytes' decision tree (midpoints of adjacent codes, as float32 literals), so a value exactly
    on a threshold takes the lower code. A block of zeros gives x = 0 * inf = NaN, which every
    comparison rejects: code 0 (-1.0).
  * Two codes per byte, the element with the even flat index in the high nibble. An odd element
    count leaves a padding zero (code 7, or 0 in an all-zero block) in the last low nibble.
  * Double quantization: offset = mean of the absmax values (float64 sum, rounded to float32; on a
    GPU torch's float32 reduction order can move it by an ulp), then (absmax - offset) is quantized in
    blocks of 256 with the signed dynamic map and one float32 absmax per block, by the same reciprocal
    scaling and dQuantize<0>'s rule: a 7-step binary search over the odd-indexed map entries, then
    the nearest of the two neighbours by a float32 midpoint, ties going to the even index; NaN -> 0.
  * Dequantization: absmax' = float32(map[q] * absmax2) + offset, then w' = code[nibble] * absmax'.
  * The dynamic map is built with this machine's torch (1.13, x86-64) as create_dynamic_map builds it;
    float32 torch.linspace differs in the last bit between torch builds, so another torch may give a
    map that differs in a few entries (Camelid holds this one as a table, DynamicMap.cs).

This script is an independent implementation (vectorised with searchsorted) of the same rules as
the C# in src/Camelid.Tensors/Quant; the tests compare the two bit for bit.

Usage: /usr/bin/python3 tools/make_nf4_fixtures.py
"""
import json
import os
from fractions import Fraction

import numpy as np
import torch
from torch.special import ndtri

F = np.float32
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "quant", "nf4")
BLOCK = 64
ABSMAX_BLOCK = 256

# NF4 as bitsandbytes' kernels hold it (nf4_dequantization_lut); checked below against the QLoRA
# paper's construction (appendix E / create_normal_map with offset 0.9677083).
NF4_CODE = np.array([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], dtype=F)

# The thresholds of dQuantizeNF4's tree as written there: float literals, which a C/C++/CUDA compiler
# rounds directly from decimal to the nearest float32. Four of them land one ulp away from the float32
# rounding of the exact midpoint of the adjacent codes (the midpoint is a tie there), so they are kept
# as written rather than derived.
BNB_TREE_THRESHOLDS = [
    "-0.8480964004993439", "-0.6106329262256622", "-0.4599952697753906", "-0.33967943489551544",
    "-0.23460740596055984", "-0.13791173323988914", "-0.045525018125772476", "0.03979014977812767",
    "0.1202552504837513", "0.2035212516784668", "0.2920137718319893", "0.3893125355243683",
    "0.5016634166240692", "0.6427869200706482", "0.8614784181118011"]


def float32_literal(text):
    """The float32 nearest to a decimal string, rounded once (np.float32(float(text)) rounds twice)."""
    exact = Fraction(text)
    guess = F(float(exact))
    candidates = [np.nextafter(guess, F(-2)), guess, np.nextafter(guess, F(2))]
    distances = [abs(Fraction(float(c)) - exact) for c in candidates]
    best = [c for c, d in zip(candidates, distances) if d == min(distances)]
    assert len(best) == 1, f"{text} is a float32 tie"
    return best[0]


def nf4_thresholds():
    return np.array([float32_literal(t) for t in BNB_TREE_THRESHOLDS], dtype=F)


def paper_nf4():
    """QLoRA eq. (4): 8 positive and 7 negative normal quantiles between 1-delta and 1/2, plus 0, scaled to [-1, 1]."""
    delta_offset = 0.9677083
    positive = ndtri(torch.linspace(delta_offset, 0.5, 9, dtype=torch.float64)[:-1])
    negative = -ndtri(torch.linspace(delta_offset, 0.5, 8, dtype=torch.float64)[:-1])
    values = torch.cat([positive, negative, torch.zeros(1, dtype=torch.float64)]).sort().values
    return (values / values.max()).numpy()


def signed_dynamic_map():
    """create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8), in torch's float32 as bitsandbytes runs it."""
    values = []
    for exponent in range(7):
        edges = torch.linspace(0.1, 1, 2 ** exponent + 1)
        centres = (edges[:-1] + edges[1:]) / 2.0
        scale = 10 ** (exponent - 6)
        values += (scale * centres).tolist()
        values += (-scale * centres).tolist()
    values += [0.0, 1.0]
    assert len(values) == 256
    return np.array(sorted(values), dtype=F)


def blockwise_absmax(flat, block):
    count = -(-flat.size // block)
    padded = np.zeros(count * block, dtype=F)
    padded[:flat.size] = flat
    blocks = padded.reshape(count, block)
    return blocks, np.abs(blocks).max(axis=1)


def scaled(blocks, absmax):
    with np.errstate(divide="ignore", invalid="ignore"):
        reciprocal = F(1) / absmax
        return blocks * reciprocal[:, None]


def nf4_indices(x):
    index = np.searchsorted(nf4_thresholds(), x, side="left")  # thresholds strictly below x
    index[np.isnan(x)] = 0
    return index.astype(np.uint8)


def dynamic_indices(x, code):
    odd = code[1::2]
    even = np.minimum(np.searchsorted(odd, x, side="left"), 127) * 2
    centre = code[even]
    above = x > centre
    up_mid = ((code[np.minimum(even + 1, 255)] + centre) * F(0.5)).astype(F)
    down_mid = ((code[np.maximum(even - 1, 0)] + centre) * F(0.5)).astype(F)
    index = np.where(above, np.where(x > up_mid, even + 1, even),
                     np.where((even > 0) & (x < down_mid), even - 1, even))
    index[np.isnan(x)] = 0
    return index.astype(np.uint8)


def quantize_nf4(weights):
    flat = weights.reshape(-1).astype(F)
    blocks, absmax = blockwise_absmax(flat, BLOCK)
    indices = nf4_indices(scaled(blocks, absmax)).reshape(-1)
    indices = indices[:flat.size + flat.size % 2]
    packed = ((indices[0::2] << 4) | indices[1::2]).astype(np.uint8)
    return packed, absmax


def double_quantize(absmax, code):
    offset = F(absmax.astype(np.float64).sum() / absmax.size)
    centred = (absmax - offset).astype(F)
    blocks, absmax2 = blockwise_absmax(centred, ABSMAX_BLOCK)
    qabsmax = dynamic_indices(scaled(blocks, absmax2), code).reshape(-1)[:absmax.size]
    return offset, qabsmax, absmax2


def dequantize(packed, absmax, n):
    indices = np.empty(packed.size * 2, dtype=np.uint8)
    indices[0::2], indices[1::2] = packed >> 4, packed & 0x0F
    scales = np.repeat(absmax, BLOCK)[:n]
    return (NF4_CODE[indices[:n]] * scales).astype(F)


def restore_absmax(qabsmax, absmax2, offset, code):
    return ((code[qabsmax] * np.repeat(absmax2, ABSMAX_BLOCK)[:qabsmax.size]).astype(F) + offset).astype(F)


def make_weights(rng, rows, cols, zero_block=None):
    w = (rng.standard_normal((rows, cols)) * 0.02).astype(F)
    flat = w.reshape(-1)
    outliers = rng.choice(flat.size, size=max(1, flat.size // 150), replace=False)
    flat[outliers] *= F(12)
    if zero_block is not None:
        flat[zero_block * BLOCK:(zero_block + 1) * BLOCK] = 0
    return w


def threshold_weights():
    """Two blocks whose scaled values sit exactly on, just above and just below every NF4 threshold, and on
    the float32 midpoints that four thresholds miss by an ulp; the blocks' absmax (1 and 1/8) make the
    scaling exact."""
    t = nf4_thresholds()
    midpoints = ((NF4_CODE[:-1].astype(np.float64) + NF4_CODE[1:]) / 2).astype(F)
    block = np.concatenate([[F(1)], t, np.nextafter(t, F(2)), np.nextafter(t, F(-2)), midpoints, [F(0), F(-1), F(0.5)]]).astype(F)
    assert block.size == BLOCK
    return np.stack([block, block * F(0.125)])


def write_case(name, weights, code, manifest, with_dequantized=True, half_weights=False):
    if half_weights:
        weights = weights.astype(np.float16).astype(F)
    rows, cols = weights.shape
    n = rows * cols
    packed, absmax = quantize_nf4(weights)
    offset, qabsmax, absmax2 = double_quantize(absmax, code)
    restored = restore_absmax(qabsmax, absmax2, offset, code)
    entry = {
        "rows": rows, "cols": cols,
        "weights": f"{name}.weights.{'f16' if half_weights else 'f32'}",
        "codes": f"{name}.codes.u8",
        "absmax": f"{name}.absmax.f32",
        "quantized_absmax": f"{name}.qabsmax.u8",
        "absmax2": f"{name}.absmax2.f32",
        "restored_absmax": f"{name}.restored_absmax.f32",
        "offset_bits": int(np.array([offset], dtype=F).view(np.uint32)[0]),
        "offset": float(offset),
    }
    if half_weights:
        weights.astype(np.float16).tofile(os.path.join(OUT, entry["weights"]))
    else:
        weights.astype(F).tofile(os.path.join(OUT, entry["weights"]))
    packed.tofile(os.path.join(OUT, entry["codes"]))
    absmax.astype(F).tofile(os.path.join(OUT, entry["absmax"]))
    qabsmax.tofile(os.path.join(OUT, entry["quantized_absmax"]))
    absmax2.astype(F).tofile(os.path.join(OUT, entry["absmax2"]))
    restored.tofile(os.path.join(OUT, entry["restored_absmax"]))
    if with_dequantized:
        entry["dequantized"] = f"{name}.dequantized.f32"
        entry["dequantized_single"] = f"{name}.dequantized_single.f32"
        dequantize(packed, restored, n).tofile(os.path.join(OUT, entry["dequantized"]))
        dequantize(packed, absmax, n).tofile(os.path.join(OUT, entry["dequantized_single"]))
    manifest["cases"][name] = entry
    error = np.abs(dequantize(packed, restored, n) - weights.reshape(-1)).max()
    print(f"{name}: {n} weights, {absmax.size} blocks, {absmax2.size} absmax blocks, offset {offset:.6g}, max |w - dq| {error:.3g}")


def main():
    midpoints = (NF4_CODE[:-1].astype(np.float64) + NF4_CODE[1:]) / 2
    ulps_off = np.abs(nf4_thresholds().view(np.int32) - midpoints.astype(F).view(np.int32))
    assert ulps_off.max() <= 1, "a threshold is not the midpoint of its codes"
    assert np.abs(paper_nf4() - NF4_CODE).max() < 2e-7, "NF4 table differs from the paper's construction"
    code = signed_dynamic_map()
    assert code[127] == 0 and code[255] == 1 and np.all(np.diff(code) > 0)

    os.makedirs(OUT, exist_ok=True)
    NF4_CODE.tofile(os.path.join(OUT, "nf4_code.f32"))
    nf4_thresholds().tofile(os.path.join(OUT, "nf4_thresholds.f32"))
    code.tofile(os.path.join(OUT, "dynamic_map.f32"))
    manifest = {"generator": "tools/make_nf4_fixtures.py", "block_size": BLOCK, "absmax_block_size": ABSMAX_BLOCK,
                "nf4_code": "nf4_code.f32", "nf4_thresholds": "nf4_thresholds.f32", "dynamic_map": "dynamic_map.f32", "cases": {}}

    rng = np.random.default_rng(20230523)
    # 516 weights: rows start inside blocks, block 1 is all zero, the last block holds 4 weights.
    write_case("w3x172", make_weights(rng, 3, 172, zero_block=1), code, manifest)
    write_case("ties2x64", threshold_weights(), code, manifest)
    write_case("w4x256", make_weights(rng, 4, 256), code, manifest)
    # odd count: rows start mid-byte and the last byte carries a padding nibble.
    write_case("w7x37", make_weights(rng, 7, 37), code, manifest)
    # a single block: absmax - offset is 0, so the second-level absmax is 0 (x = NaN -> index 0).
    write_case("w1x50", make_weights(rng, 1, 50), code, manifest)
    # 258 blocks (the last holds 2 weights) -> two absmax blocks, the second holding 2 values.
    write_case("w5x3290", make_weights(rng, 5, 3290), code, manifest, with_dequantized=False, half_weights=True)

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
