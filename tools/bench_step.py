#!/usr/bin/python3
"""PyTorch side of `Benchmarks step`: one training step of one configuration, in this process.

Run by the C# benchmark (Benchmarks/StepBenchmark.cs) from the repository root:
  /usr/bin/python3 tools/bench_step.py --config small|resnet50|resnet101 --part encoder|fewshot \
      --threads N --iterations K --warmup SECONDS --profiled M
encoder: the few-shot encoder alone (ResNet trunk, OS8, + 1x1 reduce conv to 256), batch 2, loss = mean of the
         features, backward, SGD. fewshot: the full SSL-ALPNet iteration as Models/FewShot/AlpSegmenter.cs does it
         (support and query in one batch, ALP head, weighted CE + PANet alignment CE, SGD) on the fixed synthetic
         episode of Benchmarks/StepWorkload.cs. Prints one JSON line: s/it (median after warm-up iterations for SECONDS, at least one), peak RSS
         (getrusage ru_maxrss), and self CPU time of torch.profiler events grouped into the C# OpProfiler's families.
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import Bottleneck

LEARNING_RATE = 1e-3
FEATURES = 256
# SSL-ALPNet's ALP head constants (Models/FewShot/AlpHead.cs, AlpConfig.Default) and loss weights.
TRAIN_WINDOW, THRESHOLD, FG_CHECK_WINDOW = 4, 0.95, 4
QUERY_CLASS_WEIGHTS = [0.05, 1.0]
IGNORE = 255


class SmallTrunk(nn.Module):
    """torchvision's ResNet trunk (Bottleneck blocks, _make_layer's dilation rule) with every width scaled, as
    Models/ResNet.cs builds ResNetConfig(layers, [False, True, True], width)."""

    def __init__(self, layers, width):
        super().__init__()
        scaled = lambda c: max(1, int(round(c * width)))  # noqa: E731
        self.inplanes, self.dilation = scaled(64), 1
        self.conv1 = nn.Conv2d(3, self.inplanes, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(scaled(64), layers[0], 1, False)
        self.layer2 = self._make_layer(scaled(128), layers[1], 2, False)
        self.layer3 = self._make_layer(scaled(256), layers[2], 2, True)
        self.layer4 = self._make_layer(scaled(512), layers[3], 2, True)

    def _make_layer(self, planes, blocks, stride, dilate):
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * Bottleneck.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * Bottleneck.expansion))
        layers = [Bottleneck(self.inplanes, planes, stride, downsample, dilation=previous_dilation)]
        self.inplanes = planes * Bottleneck.expansion
        layers += [Bottleneck(self.inplanes, planes, dilation=self.dilation) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


class Encoder(nn.Module):
    """Trunk up to layer4, then SSL-ALPNet's reduce conv (1x1, no bias) to 256 features (FeatureHead.Reduce)."""

    def __init__(self, config):
        super().__init__()
        if config == "small":
            self.backbone = SmallTrunk([2, 2, 2, 2], 0.25)
            out_channels = 128 * Bottleneck.expansion
        else:
            make = torchvision.models.resnet50 if config == "resnet50" else torchvision.models.resnet101
            self.backbone = make(replace_stride_with_dilation=[False, True, True])
            del self.backbone.fc, self.backbone.avgpool
            out_channels = 2048
        self.reduce = nn.Conv2d(out_channels, FEATURES, 1, bias=False)

    def forward(self, x):
        b = self.backbone
        x = b.maxpool(b.relu(b.bn1(b.conv1(x))))
        x = b.layer4(b.layer3(b.layer2(b.layer1(x))))
        return self.reduce(x)


# ---- the ALP head (Models/FewShot/Prototypes.cs, AlpHead.cs, AlpSegmenter.cs) ----

def local_prototypes(features, grid, window):
    pooled_mask = F.avg_pool2d(grid, window, window).reshape(-1)
    keep = torch.nonzero(pooled_mask > THRESHOLD).reshape(-1)
    if keep.numel() == 0:
        return None
    cells = F.avg_pool2d(features, window, window).reshape(features.shape[1], -1)
    return cells.index_select(1, keep).t()


def global_prototype(features, grid):
    weighted = (features * grid).sum((0, 2, 3))
    return (weighted * (1 / (grid.sum().item() + 1e-5))).reshape(1, -1)


def normalize(x, dim):
    return x / x.norm(dim=dim, keepdim=True).clamp(min=1e-4)


def score(prototypes, query_features):
    q = normalize(query_features.reshape(query_features.shape[1], -1), 0)
    d = 20 * (normalize(prototypes, 1) @ q)
    return (F.softmax(d, 0) * d).sum(0)


def background(features, bg_grid):
    local = local_prototypes(features, bg_grid, TRAIN_WINDOW)
    if local is None:
        raise RuntimeError("no background cell is covered above the threshold")
    return local


def foreground(features, fg_grid):
    glob = global_prototype(features, fg_grid)
    if F.avg_pool2d(fg_grid, FG_CHECK_WINDOW, FG_CHECK_WINDOW).max().item() < THRESHOLD:
        return glob
    local = local_prototypes(features, fg_grid, TRAIN_WINDOW)
    return glob if local is None else torch.cat([local, glob], 0)


def head_logits(bg, fg, query_features):
    h, w = query_features.shape[2:]
    return torch.stack([score(bg, query_features), score(fg, query_features)], 0).reshape(1, 2, h, w)


def alp_loss(encoder, episode, weight):
    support_image, support_mask, support_label, query_image, query_label = episode
    features = encoder(torch.cat([support_image, query_image], 0))
    fs, fq = features[0:1], features[1:2]
    size = query_image.shape[2:]
    fg_grid = F.interpolate(support_mask, fs.shape[2:], mode="bilinear", align_corners=False)
    logits = head_logits(background(fs, 1 - fg_grid), foreground(fs, fg_grid), fq)
    query_loss = F.cross_entropy(F.interpolate(logits, size, mode="bilinear", align_corners=False), query_label, weight, ignore_index=IGNORE)
    predicted_fg = (logits.detach()[:, 1:2] - logits.detach()[:, 0:1] > 0).to(fq.dtype)
    support_logits = head_logits(background(fq, 1 - predicted_fg), foreground(fq, predicted_fg), fs)
    align_loss = F.cross_entropy(F.interpolate(support_logits, size, mode="bilinear", align_corners=False), support_label, ignore_index=IGNORE)
    return query_loss + align_loss


def synthetic_episode(size):
    """The episode of Benchmarks/StepWorkload.cs (SyntheticEpisode): same formulas."""
    y, x = torch.meshgrid(torch.arange(size, dtype=torch.float64), torch.arange(size, dtype=torch.float64), indexing="ij")

    def image(fx, fy, disc):
        grey = 0.25 * (torch.sin(x * fx) + torch.cos(y * fy)) + 2 * disc
        return grey.float().expand(1, 3, size, size).contiguous()

    def disc(cx, cy):
        return ((x - cx) ** 2 + (y - cy) ** 2 < (size / 4.0) ** 2).long()

    support_label = disc(size / 2.0, size / 2.0)
    query_label = disc(size / 2.0 + size / 16.0, size / 2.0)
    return (image(0.21, 0.13, support_label), support_label.float().reshape(1, 1, size, size), support_label.reshape(1, size, size),
            image(0.19, 0.17, query_label), query_label.reshape(1, size, size))


# ---- grouping profiler events into the C# OpProfiler's families (Engine/Profiling/OpProfiler.cs) ----

ALLOCATION_COPY = {"empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "fill_", "zero_",
                   "copy_", "clone", "contiguous", "cat", "stack", "to", "_to_copy", "new_empty", "new_empty_strided",
                   "new_zeros", "resize_", "full", "full_like", "scalar_tensor", "lift_fresh", "_cat"}
ELEMENTWISE = {"relu", "relu_", "clamp_min_", "threshold_backward", "add", "add_", "sub", "sub_", "rsub", "mul", "mul_", "div", "div_",
               "neg", "clamp", "clamp_min", "clamp_max", "gt", "ge", "lt", "le", "eq", "ne", "where", "pow", "sqrt",
               "rsqrt", "sigmoid", "exp", "log", "abs", "sign", "reciprocal", "masked_fill", "masked_fill_", "heaviside"}
PROTOTYPE_HEAD = {"mm", "bmm", "matmul", "addmm", "softmax", "_softmax", "_softmax_backward_data", "norm",
                  "linalg_vector_norm", "sum", "mean", "max", "amax", "index_select", "index_add_", "index_add",
                  "nonzero", "index", "index_put_", "gather", "scatter_add_"}
FAMILIES = ["convolution", "batch_norm", "elementwise", "pooling_resize", "prototype_head", "loss", "optimizer", "allocation_copy"]


def family_of(event):
    name = event.name
    if name.startswith("autograd::") or "Backward" in name or not name.startswith("aten::"):
        return None
    op = name[len("aten::"):]
    if op in ALLOCATION_COPY:
        return "allocation_copy"
    parent = event.cpu_parent
    while parent is not None:
        if parent.name == "optimizer_step":
            return "optimizer"
        parent = parent.cpu_parent
    if "conv" in op:
        return "convolution"
    if "batch_norm" in op:
        return "batch_norm"
    if "pool" in op or "upsample" in op:
        return "pooling_resize"
    if "log_softmax" in op or "nll_loss" in op or "cross_entropy" in op:
        return "loss"
    if op in PROTOTYPE_HEAD:
        return "prototype_head"
    if op in ELEMENTWISE:
        return "elementwise"
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", choices=["small", "resnet50", "resnet101"], required=True)
    parser.add_argument("--part", choices=["encoder", "fewshot"], required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--profiled", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    size = 256 if args.config == "resnet101" else 128
    encoder = Encoder(args.config).train()
    sgd = torch.optim.SGD(encoder.parameters(), lr=LEARNING_RATE, momentum=0.9, weight_decay=5e-4)

    if args.part == "encoder":
        image = torch.randn(2, 3, size, size)
        loss_fn = lambda: encoder(image).mean()  # noqa: E731
    else:
        episode = synthetic_episode(size)
        weight = torch.tensor(QUERY_CLASS_WEIGHTS)
        loss_fn = lambda: alp_loss(encoder, episode, weight)  # noqa: E731

    def iteration():
        loss = loss_fn()
        loss.backward()
        with torch.autograd.profiler.record_function("optimizer_step"):
            sgd.step()
        sgd.zero_grad(set_to_none=True)  # as ours: gradients are dropped, not zeroed

    warmup_start = time.perf_counter()
    iteration()
    while time.perf_counter() - warmup_start < args.warmup:
        iteration()
    times = []
    for _ in range(args.iterations):
        start = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - start)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for _ in range(args.profiled):
            iteration()
        wall_ms = (time.perf_counter() - start) * 1e3 / args.profiled
    families = {f: 0.0 for f in FAMILIES}
    unmapped = {}
    for event in prof.events():
        family = family_of(event)
        ms = event.self_cpu_time_total / 1e3 / args.profiled
        if family is None:
            unmapped[event.name] = unmapped.get(event.name, 0.0) + ms
        else:
            families[family] += ms
    print(json.dumps({
        "side": "pytorch", "config": args.config, "part": args.part,
        "parameters": sum(p.numel() for p in encoder.parameters()),
        "seconds_per_iteration": statistics.median(times), "peak_rss_bytes": peak_rss,
        "profiled_wall_ms": wall_ms, "families_ms": families,
        "unmapped_ms": dict(sorted(unmapped.items(), key=lambda kv: -kv[1])[:8]),
    }))


if __name__ == "__main__":
    main()
