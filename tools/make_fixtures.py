#!/usr/bin/python3
"""Generates Tests/Fixtures/conv_ops.safetensors: PyTorch reference values for the conv network ops.

Run from the repository root:  /usr/bin/python3 tools/make_fixtures.py
(Debian's Python; the pyenv `python3` on PATH has no torch.)

Naming: tensors `<op>/<case>/<name>`, one metadata entry `<op>/<case>` = JSON of the case's parameters.
Every case has a random upstream gradient `grad_y` and the gradients from `(y * grad_y).sum().backward()`.
Stored data is float32 (what PyTorch computes in float32); each case is also recomputed in float64 and
the float32 values must agree with it, so a fixture can never silently hold a badly conditioned case.
"""
import json
import os
import sys
import zlib

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402  (our own writer/reader; the safetensors package is unavailable)
import make_encoder_fixtures  # noqa: E402  (the torchvision encoder fixtures, Tests/Fixtures/encoder/)

# Single-threaded so reductions (grad_weight, batch-norm sums) add up in the same order on every run;
# set before any case is computed (the cases below run at import time).
torch.set_num_threads(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "conv_ops.safetensors")
MAX_BYTES = 1_500_000

tensors = {}   # "<op>/<case>/<name>" -> float32 numpy array
metadata = {}  # "<op>/<case>" -> JSON string of params
worst = {}     # op -> worst float32-vs-float64 relative error, printed as a hint for C# tolerances


def generator_for(op, case):
    # One generator per case, seeded from its name: a case's data does not depend on which
    # cases come before it, so adding or reordering cases leaves the others byte-identical.
    return torch.Generator().manual_seed(zlib.crc32(f"{op}/{case}".encode()))


def run(fn, params, inputs, grad_names, grad_y, dtype):
    """Forward + backward in `dtype`. Returns (y, extra outputs, {input name: gradient})."""
    leaves = {k: v.to(dtype).clone().requires_grad_(k in grad_names) for k, v in inputs.items()}
    y, extras = fn(leaves, params)
    (y * grad_y.to(dtype)).sum().backward()
    grads = {k: leaves[k].grad for k in grad_names}
    return y.detach(), {k: v.detach() for k, v in extras.items()}, grads


def record(op, case, params, inputs, fn, grad_names, gen):
    """inputs: float32 tensors (already drawn from gen); fn(leaves, params) -> (y, {extra outputs})."""
    key = f"{op}/{case}"
    assert key not in metadata, f"duplicate case {key}"
    # first a no-grad forward just to learn y's shape, so grad_y can be drawn from the case generator
    with torch.no_grad():
        y_shape = fn({k: v.clone() for k, v in inputs.items()}, params)[0].shape
    grad_y = torch.randn(y_shape, generator=gen, dtype=torch.float32)

    y, extras, grads = run(fn, params, inputs, grad_names, grad_y, torch.float32)
    y64, extras64, grads64 = run(fn, params, inputs, grad_names, grad_y, torch.float64)

    out = dict(inputs)
    out["y"] = y
    out.update(extras)
    out["grad_y"] = grad_y
    out.update({f"grad_{k}": g for k, g in grads.items()})
    ref = {"y": y64, **extras64, **{f"grad_{k}": g for k, g in grads64.items()}}
    for name, r in ref.items():
        err = ((out[name].double() - r).abs().max() / max(1.0, r.abs().max().item())).item()
        worst[op] = max(worst.get(op, 0.0), err)
        assert err < 1e-4, f"{key}/{name}: float32 differs from float64 by {err:g} (relative)"

    for name, t in out.items():
        assert t.dtype == torch.float32, f"{key}/{name} is {t.dtype}"
        tensors[f"{key}/{name}"] = t.contiguous().numpy().copy()
    metadata[key] = json.dumps(params)


# ---------------------------------------------------------------- conv2d
def conv2d_fn(t, p):
    return F.conv2d(t["x"], t["weight"], t.get("bias"), stride=p["stride"], padding=p["padding"],
                    dilation=p["dilation"]), {}


def conv2d_case(case, x_shape, c_out, k, stride, padding, dilation, bias):
    gen = generator_for("conv2d", case)
    n, c_in, h, w = x_shape
    inputs = {
        "x": torch.randn(x_shape, generator=gen),
        # scaled like a fan-in init so y stays O(1) and float32 rounding stays small
        "weight": torch.randn((c_out, c_in, k, k), generator=gen) / (c_in * k * k) ** 0.5,
    }
    if bias:
        inputs["bias"] = torch.randn((c_out,), generator=gen)
    params = {"stride": stride, "padding": padding, "dilation": dilation, "bias": bias}
    record("conv2d", case, params, inputs, conv2d_fn, list(inputs), gen)


conv2d_case("k3_s1_p1_bias", (2, 3, 8, 8), 4, 3, 1, 1, 1, True)
conv2d_case("k3_s1_p1_nobias", (2, 3, 8, 8), 4, 3, 1, 1, 1, False)
conv2d_case("k3_s2_p1", (2, 4, 9, 9), 5, 3, 2, 1, 1, False)          # odd size: 9 -> 5
conv2d_case("k3_s2_p1_even", (2, 3, 10, 10), 4, 3, 2, 1, 1, True)    # even size: 10 -> 5
conv2d_case("k1_s1_p0", (2, 5, 6, 6), 6, 1, 1, 0, 1, True)
conv2d_case("k1_s2_p0_downsample", (2, 4, 7, 7), 6, 1, 2, 0, 1, False)  # ResNet shortcut: 7 -> 4
conv2d_case("k7_s2_p3_stem", (2, 3, 13, 13), 4, 7, 2, 3, 1, False)      # ResNet stem: 13 -> 7
conv2d_case("k3_d2_p2", (2, 3, 10, 10), 4, 3, 1, 2, 2, True)
conv2d_case("k3_d4_p4", (2, 3, 11, 11), 4, 3, 1, 4, 4, False)         # dilation close to input size
conv2d_case("k3_s2_d2_p2", (2, 3, 11, 9), 4, 3, 2, 2, 2, False)       # stride and dilation together
conv2d_case("odd_h11_w13", (2, 3, 11, 13), 5, 3, 2, 1, 1, True)
conv2d_case("k3_d1_p2_pad_gt_dil", (2, 3, 7, 9), 4, 3, 1, 2, 1, True)  # output grows: 7x9 -> 9x11
conv2d_case("nonsquare_5x12", (2, 2, 5, 12), 3, 3, 1, 1, 1, False)


# ---------------------------------------------------------------- batchnorm2d
def batchnorm_fn(t, p):
    # batch_norm updates the running buffers in place: work on copies and return them as outputs
    rm = t["running_mean_in"].detach().clone()
    rv = t["running_var_in"].detach().clone()
    y = F.batch_norm(t["x"], rm, rv, t["weight"], t["bias"], training=p["training"],
                     momentum=p["momentum"], eps=p["eps"])
    return y, {"running_mean_out": rm, "running_var_out": rv}


def batchnorm_case(case, x_shape, training):
    gen = generator_for("batchnorm2d", case)
    c = x_shape[1]
    inputs = {
        # shifted and scaled per channel so the batch statistics are far from the running ones
        "x": torch.randn(x_shape, generator=gen) * (0.5 + torch.rand((1, c, 1, 1), generator=gen) * 2)
             + torch.randn((1, c, 1, 1), generator=gen) * 2,
        "weight": 0.5 + torch.rand((c,), generator=gen),
        "bias": torch.randn((c,), generator=gen),
        "running_mean_in": torch.randn((c,), generator=gen),
        "running_var_in": 0.5 + torch.rand((c,), generator=gen) * 1.5,
    }
    params = {"training": training, "momentum": 0.1, "eps": 1e-5}
    record("batchnorm2d", case, params, inputs, batchnorm_fn, ["x", "weight", "bias"], gen)


batchnorm_case("train", (2, 4, 5, 6), True)
batchnorm_case("train_odd", (2, 3, 7, 3), True)
batchnorm_case("eval", (2, 4, 5, 6), False)


# ---------------------------------------------------------------- pooling
def distinct_values(shape, gen):
    # a random permutation of evenly spaced values: no ties, so the max (and its gradient) is unique
    count = 1
    for d in shape:
        count *= d
    return (torch.randperm(count, generator=gen).to(torch.float32) / count * 4 - 2).reshape(shape)


def maxpool_case(case, x_shape, k, s, p):
    gen = generator_for("maxpool2d", case)
    inputs = {"x": distinct_values(x_shape, gen)}
    fn = lambda t, q: (F.max_pool2d(t["x"], q["kernel"], q["stride"], q["padding"]), {})  # noqa: E731
    record("maxpool2d", case, {"kernel": k, "stride": s, "padding": p}, inputs, fn, ["x"], gen)


maxpool_case("k3_s2_p1_resnet", (2, 3, 12, 12), 3, 2, 1)   # 12 -> 6
maxpool_case("k3_s2_p1_odd", (2, 3, 13, 11), 3, 2, 1)      # 13x11 -> 7x6
maxpool_case("k2_s2_p0", (2, 3, 8, 8), 2, 2, 0)
maxpool_case("k2_s2_p0_odd", (2, 3, 9, 7), 2, 2, 0)        # last row/column dropped
maxpool_case("k3_s1_p1", (2, 2, 6, 7), 3, 1, 1)           # heavy window overlap


def avgpool_case(case, x_shape, k, s, p):
    gen = generator_for("avgpool2d", case)
    inputs = {"x": torch.randn(x_shape, generator=gen)}
    fn = lambda t, q: (F.avg_pool2d(t["x"], q["kernel"], q["stride"], q["padding"],  # noqa: E731
                                    ceil_mode=False, count_include_pad=True), {})
    record("avgpool2d", case, {"kernel": k, "stride": s, "padding": p}, inputs, fn, ["x"], gen)


avgpool_case("k3_s2_p1", (2, 3, 12, 12), 3, 2, 1)   # padding counted in the divisor
avgpool_case("k3_s2_p1_odd", (2, 3, 13, 11), 3, 2, 1)
avgpool_case("k2_s2_p0", (2, 3, 8, 8), 2, 2, 0)
avgpool_case("k2_s2_p0_odd", (2, 3, 9, 7), 2, 2, 0)
avgpool_case("k3_s1_p1", (2, 2, 6, 7), 3, 1, 1)


def adaptive_case(case, x_shape, out):
    gen = generator_for("adaptive_avgpool2d", case)
    inputs = {"x": torch.randn(x_shape, generator=gen)}
    fn = lambda t, q: (F.adaptive_avg_pool2d(t["x"], tuple(q["output"])), {})  # noqa: E731
    record("adaptive_avgpool2d", case, {"output": list(out)}, inputs, fn, ["x"], gen)


adaptive_case("global_1x1", (2, 4, 5, 7), (1, 1))         # ASPP image pooling
adaptive_case("nondivisible_13x11_to_4x3", (2, 3, 13, 11), (4, 3))  # overlapping, uneven bins
adaptive_case("divisible_8x8_to_2x2", (2, 3, 8, 8), (2, 2))
adaptive_case("upsample_3x2_to_5x4", (2, 2, 3, 2), (5, 4))  # output larger than input


# ---------------------------------------------------------------- interpolate (bilinear)
def interpolate_case(case, x_shape, size, align_corners):
    gen = generator_for("interpolate", case)
    inputs = {"x": torch.randn(x_shape, generator=gen)}
    fn = lambda t, q: (F.interpolate(t["x"], size=tuple(q["size"]), mode="bilinear",  # noqa: E731
                                     align_corners=q["align_corners"]), {})
    record("interpolate", case, {"size": list(size), "align_corners": align_corners}, inputs, fn, ["x"], gen)


for ac in (False, True):
    suffix = "ac1" if ac else "ac0"
    interpolate_case(f"up_5x7_to_13x11_{suffix}", (2, 3, 5, 7), (13, 11), ac)
    interpolate_case(f"down_13x11_to_4x5_{suffix}", (2, 3, 13, 11), (4, 5), ac)
    interpolate_case(f"mask_64x64_to_32x32_{suffix}", (2, 1, 64, 64), (32, 32), ac)  # few-shot head
    interpolate_case(f"up_8x8_to_32x32_{suffix}", (2, 2, 8, 8), (32, 32), ac)        # logits back up, 4x


# ---------------------------------------------------------------- write and verify
def main():
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    safetensors_io.write(OUT, tensors, metadata)
    size = os.path.getsize(OUT)
    assert size < MAX_BYTES, f"{OUT} is {size} bytes, over the {MAX_BYTES} budget"

    # read back with our own reader: every tensor bit-identical, metadata identical
    back, back_meta = safetensors_io.read(OUT)
    assert back_meta == metadata, "metadata did not round-trip"
    assert set(back) == set(tensors), "tensor names did not round-trip"
    for name, arr in tensors.items():
        b = back[name]
        assert b.dtype == arr.dtype and b.shape == arr.shape, name
        assert b.tobytes() == arr.tobytes(), f"{name}: data did not round-trip"

    ops = sorted({k.split("/")[0] for k in metadata})
    print(f"wrote {os.path.relpath(OUT, ROOT)}: {size} bytes, {len(metadata)} cases, {len(tensors)} tensors "
          f"(torch {torch.__version__})")
    for op in ops:
        n = sum(1 for k in metadata if k.startswith(op + "/"))
        print(f"  {op}: {n} cases, worst float32-vs-float64 relative error {worst[op]:.2e}")
    make_encoder_fixtures.main()


if __name__ == "__main__":
    main()
