#!/usr/bin/python3
"""PyTorch reference for the few-shot encoder (ResNet trunk + ASPP / reduce heads), from torchvision's classes.

Run from the repository root:  /usr/bin/python3 tools/make_encoder_fixtures.py
(also called by tools/make_fixtures.py). Writes Tests/Fixtures/encoder/:
  encoder.pth                torch.save of the state dict: backbone.*, classifier.0.* (ASPP), reduce.weight
  eval.safetensors           input x and eval-mode outputs: backbone, aspp, reduce
  train.safetensors          training mode, reduce head: x, grad_y, y, grad/<param name> for every
                             parameter, and running stats after the step (state/<buffer name>)
The network is torchvision's ResNet (Bottleneck v1.5, _make_layer, IntermediateLayerGetter) at 1/16 width,
blocks [1, 1, 2, 2], replace_stride_with_dilation [False, True, True], so it keeps every structural
feature of ResNet-101/OS8 (dilated stages, a dilated stage's first block at the previous dilation) while
the files stay small. The C# side builds ResNetConfig([1, 1, 2, 2], [false, true, true], 1/16).
"""
import os
import sys

import torch
import torch.nn as nn
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.resnet import Bottleneck, ResNet
from torchvision.models.segmentation.deeplabv3 import ASPP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "encoder")
LAYERS = [1, 1, 2, 2]
WIDTH = 1 / 16
FEATURES = 16
SIZE = 64


class NarrowResNet(ResNet):
    """torchvision's ResNet with every width scaled: ResNet.__init__ fixes 64 stem channels, so this sets
    up the same attributes and builds the stages with torchvision's own _make_layer."""

    def __init__(self, layers, width, replace_stride_with_dilation):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = round(64 * width)
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        planes = [round(p * width) for p in (64, 128, 256, 512)]
        self.layer1 = self._make_layer(Bottleneck, planes[0], layers[0])
        self.layer2 = self._make_layer(Bottleneck, planes[1], layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(Bottleneck, planes[2], layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(Bottleneck, planes[3], layers[3], stride=2, dilate=replace_stride_with_dilation[2])


class Encoder(nn.Module):
    """backbone + classifier.0 (ASPP) + reduce (1×1, no bias): the names the C# FewShotEncoder uses."""

    def __init__(self):
        super().__init__()
        trunk = NarrowResNet(LAYERS, WIDTH, [False, True, True])
        self.backbone = IntermediateLayerGetter(trunk, return_layers={"layer4": "out"})
        channels = round(512 * WIDTH) * 4
        self.classifier = nn.Sequential(ASPP(channels, [12, 24, 36], FEATURES))
        self.reduce = nn.Conv2d(channels, FEATURES, 1, bias=False)


def randomise(model, gen):
    """Non-trivial BN affine and running statistics, so eval mode really tests them."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))
                m.num_batches_tracked.fill_(7)


def numpy(t):
    return t.detach().contiguous().numpy()


def main():
    torch.set_num_threads(1)
    torch.manual_seed(2024)
    gen = torch.Generator().manual_seed(2024)
    model = Encoder()
    randomise(model, gen)
    os.makedirs(OUT, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(OUT, "encoder.pth"))

    x = torch.randn(2, 3, SIZE, SIZE, generator=gen)
    model.eval()
    with torch.no_grad():
        features = model.backbone(x)["out"]
        evals = {"x": numpy(x), "backbone": numpy(features),
                 "aspp": numpy(model.classifier(features)), "reduce": numpy(model.reduce(features))}
    safetensors_io.write(os.path.join(OUT, "eval.safetensors"), evals)

    # Training mode (batch statistics, running-stat update), reduce head: no dropout, so no RNG to match.
    model.train()
    y = model.reduce(model.backbone(x)["out"])
    grad_y = torch.randn(y.shape, generator=gen)
    (y * grad_y).sum().backward()
    train = {"x": numpy(x), "y": numpy(y), "grad_y": numpy(grad_y)}
    for name, p in model.named_parameters():
        if name.startswith("backbone.") or name.startswith("reduce."):
            train["grad/" + name] = numpy(p.grad)
    for name, b in model.named_buffers():
        if name.startswith("backbone.") and not name.endswith("num_batches_tracked"):
            train["state/" + name] = numpy(b)
    safetensors_io.write(os.path.join(OUT, "train.safetensors"), train)

    sizes = {f: os.path.getsize(os.path.join(OUT, f)) for f in sorted(os.listdir(OUT))}
    print("wrote", ", ".join(f"{f} ({s} bytes)" for f, s in sizes.items()), f"(torch {torch.__version__})")


if __name__ == "__main__":
    main()
