#!/usr/bin/python3
"""Reference quantizations for the Camelid.Tensors bit-compatibility tests.

Re-implements ggml's reference quantizers (ggml-quants.c: quantize_row_{q4_0,q4_1,q5_0,q5_1,q8_0,
q4_K,q5_K,q6_K,q8_K}_ref, i.e. llama-quantize without an importance matrix) in numpy, doing every
operation on float32 scalars in ggml's order (no pairwise sums, no float64 intermediates), and writes
a fixed random input plus the expected bytes of each type to tests/fixtures/quant/.

Usage: /usr/bin/python3 tools/make_quant_fixtures.py
"""
import json
import os
import struct

import numpy as np

F = np.float32
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "quant")
ROWS, COLS = 8, 512


def f16_bytes(v):
    """fp32 -> fp16 (round to nearest even) as 2 little-endian bytes, like GGML_FP32_TO_FP16."""
    return np.array([v], dtype=np.float32).astype(np.float16).tobytes()


def f16_round(v):
    return F(np.float16(F(v)))


def nearest_int(v):
    """ggml nearest_int: round half to even through the float32 mantissa."""
    val = F(F(v) + F(12582912.0))
    bits = int(np.array([val], dtype=np.float32).view(np.int32)[0])
    return (bits & 0x007FFFFF) - 0x00400000


def roundf(v):
    """C roundf: half away from zero (exact via float64)."""
    a = np.floor(abs(float(v)) + 0.5)
    return int(a) if v >= 0 else -int(a)


def trunc(v):
    return int(v)  # C float -> integer conversion truncates toward zero


def check(v):
    assert isinstance(v, np.float32), type(v)
    return v


def signed_absmax(x):
    amax, mx = F(0), F(0)
    for v in x:
        if amax < abs(v):
            amax, mx = abs(v), v
    return mx


def q4_0(x):
    out = bytearray()
    for b in range(len(x) // 32):
        xb = x[32 * b:32 * b + 32]
        d = check(signed_absmax(xb) / F(-8))
        idv = F(1) / d if d != 0 else F(0)
        out += f16_bytes(d)
        for j in range(16):
            q0 = min(15, trunc(F(xb[j] * idv) + F(8.5)))
            q1 = min(15, trunc(F(xb[j + 16] * idv) + F(8.5)))
            out.append(q0 | (q1 << 4))
    return bytes(out)


def min_max(xb):
    mn, mx = F(np.finfo(np.float32).max), F(-np.finfo(np.float32).max)
    for v in xb:
        if v < mn:
            mn = v
        if v > mx:
            mx = v
    return mn, mx


def q4_1(x, bits=4):
    out = bytearray()
    levels = (1 << bits) - 1
    for b in range(len(x) // 32):
        xb = x[32 * b:32 * b + 32]
        mn, mx = min_max(xb)
        d = check((mx - mn) / F(levels))
        idv = F(1) / d if d != 0 else F(0)
        out += f16_bytes(d) + f16_bytes(mn)
        qs, qh = [], 0
        for j in range(16):
            q0 = trunc(F((xb[j] - mn) * idv) + F(0.5))
            q1 = trunc(F((xb[j + 16] - mn) * idv) + F(0.5))
            if bits == 4:
                q0, q1 = min(15, q0), min(15, q1)
            qs.append((q0 & 0xF) | ((q1 & 0xF) << 4))
            qh |= ((q0 >> 4) & 1) << j
            qh |= ((q1 >> 4) & 1) << (j + 16)
        if bits == 5:
            out += struct.pack("<I", qh)
        out += bytes(qs)
    return bytes(out)


def q5_0(x):
    out = bytearray()
    for b in range(len(x) // 32):
        xb = x[32 * b:32 * b + 32]
        d = check(signed_absmax(xb) / F(-16))
        idv = F(1) / d if d != 0 else F(0)
        qs, qh = [], 0
        for j in range(16):
            q0 = min(31, trunc(F(xb[j] * idv) + F(16.5)))
            q1 = min(31, trunc(F(xb[j + 16] * idv) + F(16.5)))
            qs.append((q0 & 0xF) | ((q1 & 0xF) << 4))
            qh |= ((q0 >> 4) & 1) << j
            qh |= ((q1 >> 4) & 1) << (j + 16)
        out += f16_bytes(d) + struct.pack("<I", qh) + bytes(qs)
    return bytes(out)


def q8_0(x):
    out = bytearray()
    for b in range(len(x) // 32):
        xb = x[32 * b:32 * b + 32]
        amax = F(0)
        for v in xb:
            amax = amax if amax > abs(v) else abs(v)
        d = check(amax / F(127))
        idv = F(1) / d if d != 0 else F(0)
        out += f16_bytes(d)
        out += bytes((roundf(F(v * idv)) & 0xFF) for v in xb)
    return bytes(out)


def make_qkx2_quants(nmax, x, weights, rmin, rdelta, nstep):
    n = len(x)
    mn, mx = x[0], x[0]
    sum_w = weights[0]
    sum_x = F(sum_w * x[0])
    for i in range(1, n):
        if x[i] < mn:
            mn = x[i]
        if x[i] > mx:
            mx = x[i]
        w = weights[i]
        sum_w = F(sum_w + w)
        sum_x = F(sum_x + F(w * x[i]))
    if mn > 0:
        mn = F(0)
    if mx == mn:
        return F(0), -mn, [0] * n
    iscale = check(F(nmax) / F(mx - mn))
    scale = F(1) / iscale
    L = [0] * n
    best_error = F(0)
    for i in range(n):
        l = nearest_int(F(iscale * F(x[i] - mn)))
        L[i] = max(0, min(nmax, l))
        diff = F(F(F(scale * F(L[i])) + mn) - x[i])
        diff = F(diff * diff)
        best_error = F(best_error + F(weights[i] * diff))
    for step in range(nstep + 1):
        iscale = check(F(F(F(rmin) + F(F(rdelta) * F(step))) + F(nmax)) / F(mx - mn))
        sum_l, sum_l2, sum_xl = F(0), F(0), F(0)
        laux = [0] * n
        for i in range(n):
            l = max(0, min(nmax, nearest_int(F(iscale * F(x[i] - mn)))))
            laux[i] = l
            w = weights[i]
            wl = F(w * F(l))
            sum_l = F(sum_l + wl)
            sum_l2 = F(sum_l2 + F(wl * F(l)))
            sum_xl = F(sum_xl + F(wl * x[i]))
        D = F(F(sum_w * sum_l2) - F(sum_l * sum_l))
        if D > 0:
            this_scale = check(F(F(sum_w * sum_xl) - F(sum_x * sum_l)) / D)
            this_min = check(F(F(sum_l2 * sum_x) - F(sum_l * sum_xl)) / D)
            if this_min > 0:
                this_min = F(0)
                this_scale = F(sum_xl / sum_l2)
            cur_error = F(0)
            for i in range(n):
                diff = F(F(F(this_scale * F(laux[i])) + this_min) - x[i])
                diff = F(diff * diff)
                cur_error = F(cur_error + F(weights[i] * diff))
            if cur_error < best_error:
                L = list(laux)
                best_error, scale, mn = cur_error, this_scale, this_min
    return scale, -mn, L


def scale_min_k4(j, q):
    if j < 4:
        return q[j] & 63, q[j + 4] & 63
    return (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4)


def q45_k(x, nmax):
    five = nmax == 31
    rmin, nstep = (F(-0.5), 15) if five else (F(-1.0), 20)
    out = bytearray()
    for b in range(len(x) // 256):
        xb = x[256 * b:256 * b + 256]
        L = [0] * 256
        scales, mins = [F(0)] * 8, [F(0)] * 8
        max_scale, max_min = F(0), F(0)
        for j in range(8):
            xs = xb[32 * j:32 * j + 32]
            sum_x2 = F(0)
            for v in xs:
                sum_x2 = F(sum_x2 + F(v * v))
            av_x = F(np.sqrt(F(sum_x2 / F(32))))
            weights = [F(av_x + abs(v)) for v in xs]
            scales[j], mins[j], L[32 * j:32 * j + 32] = make_qkx2_quants(nmax, xs, weights, rmin, F(0.1), nstep)
            if scales[j] > max_scale:
                max_scale = scales[j]
            if mins[j] > max_min:
                max_min = mins[j]
        inv_scale = F(F(63) / max_scale) if max_scale > 0 else F(0)
        inv_min = F(F(63) / max_min) if max_min > 0 else F(0)
        packed = [0] * 12
        for j in range(8):
            ls = min(63, nearest_int(F(inv_scale * scales[j])) & 0xFF)
            lm = min(63, nearest_int(F(inv_min * mins[j])) & 0xFF)
            if j < 4:
                packed[j], packed[j + 4] = ls, lm
            else:
                packed[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4)
                packed[j - 4] |= (ls >> 4) << 6
                packed[j] |= (lm >> 4) << 6
        d_half, dmin_half = f16_round(F(max_scale / F(63))), f16_round(F(max_min / F(63)))
        for j in range(8):
            sc, m = scale_min_k4(j, packed)
            d = F(d_half * F(sc))
            if d == 0:
                continue
            dm = F(dmin_half * F(m))
            for ii in range(32):
                L[32 * j + ii] = max(0, min(nmax, nearest_int(F(F(xb[32 * j + ii] + dm) / d))))
        out += f16_bytes(d_half) + f16_bytes(dmin_half) + bytes(packed)
        if not five:
            out += bytes(L[64 * c + l] | (L[64 * c + l + 32] << 4) for c in range(4) for l in range(32))
        else:
            qh, ql = [0] * 32, [0] * 128
            for c in range(4):
                for l in range(32):
                    l1, l2 = L[64 * c + l], L[64 * c + l + 32]
                    if l1 > 15:
                        l1 -= 16
                        qh[l] |= 1 << (2 * c)
                    if l2 > 15:
                        l2 -= 16
                        qh[l] |= 2 << (2 * c)
                    ql[32 * c + l] = l1 | (l2 << 4)
            out += bytes(qh) + bytes(ql)
    return bytes(out)


def make_qx_quants(nmax, x):
    n = len(x)
    mx, amax = F(0), F(0)
    for v in x:
        if abs(v) > amax:
            amax, mx = abs(v), v
    if amax < F(1e-15):
        return F(0), [0] * n
    iscale = check(F(-nmax) / mx)
    L = [0] * n
    sumlx, suml2 = F(0), F(0)
    for i in range(n):
        l = max(-nmax, min(nmax - 1, nearest_int(F(iscale * x[i]))))
        L[i] = l + nmax
        w = F(x[i] * x[i])
        sumlx = F(sumlx + F(F(w * x[i]) * F(l)))
        suml2 = F(suml2 + F(F(w * F(l)) * F(l)))
    scale = F(sumlx / suml2) if suml2 != 0 else F(0)
    best = F(scale * sumlx)
    for step in range(-9, 10):
        if step == 0:
            continue
        iscale = check(F(-F(F(nmax) + F(F(0.1) * F(step)))) / mx)
        sumlx, suml2 = F(0), F(0)
        for i in range(n):
            l = max(-nmax, min(nmax - 1, nearest_int(F(iscale * x[i]))))
            w = F(x[i] * x[i])
            sumlx = F(sumlx + F(F(w * x[i]) * F(l)))
            suml2 = F(suml2 + F(F(w * F(l)) * F(l)))
        if suml2 > 0 and F(sumlx * sumlx) > F(best * suml2):
            L = [nmax + max(-nmax, min(nmax - 1, nearest_int(F(iscale * v)))) for v in x]
            scale = F(sumlx / suml2)
            best = F(scale * sumlx)
    return scale, L


def q6_k(x):
    out = bytearray()
    for b in range(len(x) // 256):
        xb = x[256 * b:256 * b + 256]
        L = [0] * 256
        scales = [F(0)] * 16
        max_scale, max_abs = F(0), F(0)
        for ib in range(16):
            scales[ib], L[16 * ib:16 * ib + 16] = make_qx_quants(32, xb[16 * ib:16 * ib + 16])
            if abs(scales[ib]) > max_abs:
                max_abs, max_scale = abs(scales[ib]), scales[ib]
        if max_abs < F(1e-15):
            out += bytes(210)
            continue
        iscale = check(F(-128) / max_scale)
        d_half = f16_round(F(F(1) / iscale))
        sc = [min(127, nearest_int(F(iscale * s))) for s in scales]
        for j in range(16):
            d = F(d_half * F(sc[j]))
            if d == 0:
                continue
            for ii in range(16):
                L[16 * j + ii] = max(-32, min(31, nearest_int(F(xb[16 * j + ii] / d)))) + 32
        ql, qh = [0] * 128, [0] * 64
        for h in range(2):
            Lh = L[128 * h:128 * h + 128]
            for l in range(32):
                q1, q2, q3, q4 = Lh[l], Lh[l + 32], Lh[l + 64], Lh[l + 96]
                ql[64 * h + l] = (q1 & 0xF) | ((q3 & 0xF) << 4)
                ql[64 * h + l + 32] = (q2 & 0xF) | ((q4 & 0xF) << 4)
                qh[32 * h + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
        out += bytes(ql) + bytes(qh) + bytes(s & 0xFF for s in sc) + f16_bytes(d_half)
    return bytes(out)


def q8_k(x):
    out = bytearray()
    for b in range(len(x) // 256):
        xb = x[256 * b:256 * b + 256]
        mx, amax = F(0), F(0)
        for v in xb:
            if abs(v) > amax:
                amax, mx = abs(v), v
        if amax == 0:
            out += bytes(292)
            continue
        iscale = check(F(-127) / mx)
        qs = [min(127, nearest_int(F(iscale * v))) for v in xb]
        bsums = [sum(qs[16 * g:16 * g + 16]) for g in range(16)]
        out += np.array([F(1) / iscale], dtype=np.float32).tobytes()
        out += bytes(q & 0xFF for q in qs) + struct.pack("<16h", *bsums)
    return bytes(out)


QUANTIZERS = {
    "Q4_0": q4_0, "Q4_1": lambda x: q4_1(x, 4), "Q5_0": q5_0, "Q5_1": lambda x: q4_1(x, 5), "Q8_0": q8_0,
    "Q4_K": lambda x: q45_k(x, 15), "Q5_K": lambda x: q45_k(x, 31), "Q6_K": q6_k, "Q8_K": q8_k,
}


def make_input():
    rng = np.random.default_rng(20261123)
    x = rng.standard_normal((ROWS, COLS)).astype(np.float32)
    x[1] *= F(0.02)                                    # weight-like magnitudes
    x[2] = rng.uniform(0.5, 3.0, COLS).astype(np.float32)   # all positive (min clamps to 0)
    x[3] = -rng.uniform(0.01, 1.0, COLS).astype(np.float32)  # all negative
    x[4, :256] = 0                                     # an all-zero super-block
    x[4, 300:340] = F(0.75)                             # constant run across blocks
    x[5] = rng.standard_t(2.0, COLS).astype(np.float32)    # heavy tails / outliers
    x[5, 17] = F(40.0)
    x[6] = (rng.integers(-8, 8, COLS) * 0.125).astype(np.float32)  # exactly representable grid (ties)
    x[7] = rng.standard_normal(COLS).astype(np.float32) * F(1e-3)
    x[7, 100:132] = F(-1e-6)
    return x


def main():
    os.makedirs(OUT, exist_ok=True)
    x = make_input()
    with open(os.path.join(OUT, "input_f32.bin"), "wb") as f:
        f.write(x.astype("<f4").tobytes())
    for name, fn in QUANTIZERS.items():
        data = b"".join(fn([F(v) for v in row]) for row in x)
        with open(os.path.join(OUT, f"{name.lower()}.bin"), "wb") as f:
            f.write(data)
        print(name, len(data), "bytes")
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"rows": ROWS, "cols": COLS, "input": "input_f32.bin",
                   "types": {n: f"{n.lower()}.bin" for n in QUANTIZERS},
                   "generator": "tools/make_quant_fixtures.py"}, f, indent=1)


if __name__ == "__main__":
    main()
