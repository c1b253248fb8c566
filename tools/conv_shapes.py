#!/usr/bin/python3
"""The distinct conv2d shapes of the step benchmark's encoders, shared by the conv benchmarks.

Run from the repository root:  /usr/bin/python3 tools/conv_shapes.py
writes Benchmarks/resnet101_os8_conv_shapes.json (the DeepLabv3 encoder + ASPP at 2 x 256^2) and
Benchmarks/resnet50_os8_conv_shapes.json (the ResNet-50 encoder at 2 x 128^2, as in `step --config resnet50`),
which the C# benchmark reads, so that tools/bench_torch.py and the C# side time exactly the same list.
"""
import json
import os

import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETS = ("resnet101", "resnet50")


def shapes_json(net):
    return os.path.join(ROOT, "Benchmarks", f"{net}_os8_conv_shapes.json")

KEYS = ["n", "c_in", "h", "w", "c_out", "kernel", "stride", "padding", "dilation", "bias", "count"]


def _square(v):
    # torchvision stores stride/padding/dilation/kernel as pairs; our list assumes square ones
    a, b = (v, v) if isinstance(v, int) else v
    assert a == b, f"non-square conv parameter {v}"
    return a


def os8_conv_shapes(net_name, n, size, with_aspp):
    """Every distinct conv2d shape, in order of first occurrence, with how often it occurs."""
    # output stride 8: layer3 and layer4 use dilation instead of stride (the DeepLabv3 encoder)
    net = getattr(torchvision.models, net_name)(weights=None, replace_stride_with_dilation=[False, True, True]).eval()
    seen = []  # one dict per conv call, in call order

    def hook(module, inputs, output):
        x = inputs[0]
        seen.append({
            "n": x.shape[0], "c_in": x.shape[1], "h": x.shape[2], "w": x.shape[3],
            "c_out": module.out_channels, "kernel": _square(module.kernel_size),
            "stride": _square(module.stride), "padding": _square(module.padding),
            "dilation": _square(module.dilation), "bias": module.bias is not None,
        })
        assert module.groups == 1

    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(hook)
    with torch.no_grad():
        # only the shapes matter; stop before avgpool/fc, which are not part of the encoder
        x = torch.zeros(n, 3, size, size)
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        feat = net.layer4(net.layer3(net.layer2(net.layer1(x))))
    _, c, fh, fw = feat.shape
    assert (c, fh, fw) == (2048, size // 8, size // 8), feat.shape

    if with_aspp:
        # ASPP (torchvision's DeepLabHead for output stride 8): convs without bias, since BN follows.
        # The image-pooling branch's 1x1 conv runs on a 1x1 map and is negligible, so it is not listed.
        aspp = lambda c_in, c_out, k, d: {"n": n, "c_in": c_in, "h": fh, "w": fw, "c_out": c_out,  # noqa: E731
                                          "kernel": k, "stride": 1, "padding": d if k == 3 else 0,
                                          "dilation": d, "bias": False}
        seen.append(aspp(2048, 256, 1, 1))
        for rate in (12, 24, 36):
            seen.append(aspp(2048, 256, 3, rate))
        seen.append(aspp(5 * 256, 256, 1, 1))  # projection of the 5 concatenated branches

    distinct = {}  # dicts keep insertion order = order of first occurrence
    for s in seen:
        key = tuple(s[k] for k in KEYS[:-1])
        if key not in distinct:
            distinct[key] = dict(s, count=0)
        distinct[key]["count"] += 1
    return [{k: d[k] for k in KEYS} for d in distinct.values()]


def load_shapes(net):
    with open(shapes_json(net)) as f:
        return json.load(f)


def out_size(s):
    """(h_out, w_out) by the usual convolution formula."""
    eff = s["dilation"] * (s["kernel"] - 1) + 1
    return ((s["h"] + 2 * s["padding"] - eff) // s["stride"] + 1,
            (s["w"] + 2 * s["padding"] - eff) // s["stride"] + 1)


def forward_flops(s):
    """2 * N * C_out * H_out * W_out * C_in * k^2 (multiply-adds counted as 2, bias ignored)."""
    ho, wo = out_size(s)
    return 2 * s["n"] * s["c_out"] * ho * wo * s["c_in"] * s["kernel"] ** 2


def describe(s):
    """Shape cell used in benchmark tables, e.g. `2×64×64×64 → 64, 3×3 s1 p1 d1`."""
    return (f"{s['n']}×{s['c_in']}×{s['h']}×{s['w']} → {s['c_out']}, "
            f"{s['kernel']}×{s['kernel']} s{s['stride']} p{s['padding']} d{s['dilation']}")


def main():
    torch.set_num_threads(2)
    for net, size, with_aspp in (("resnet101", 256, True), ("resnet50", 128, False)):
        shapes = os8_conv_shapes(net, 2, size, with_aspp)
        path = shapes_json(net)
        with open(path, "w") as f:
            # one shape per line: readable, and diffs stay small when the list changes
            f.write("[\n" + ",\n".join("  " + json.dumps(s) for s in shapes) + "\n]\n")
        total = sum(s["count"] for s in shapes)
        print(f"wrote {os.path.relpath(path, ROOT)}: {len(shapes)} distinct shapes, {total} convs")
        for s in shapes:
            print(f"  {describe(s):45s} x{s['count']:<3d} {forward_flops(s) / 1e9:7.2f} GFLOP")


if __name__ == "__main__":
    main()
