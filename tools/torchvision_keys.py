#!/usr/bin/python3
"""Writes Tests/Fixtures/torchvision_keys.json: the state-dict keys and shapes, in order, of torchvision's
deeplabv3_resnet101 (21 classes, no aux classifier) and of resnet18 without its classifier (fc), so tests can
check that the C# modules have exactly torchvision's names without committing 200 MB of weights.

Run from the repository root:  /usr/bin/python3 tools/torchvision_keys.py
"""
import json
import os

import torch
from torchvision.models import resnet18
from torchvision.models.segmentation import deeplabv3_resnet101

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    model = deeplabv3_resnet101(weights=None, weights_backbone=None, num_classes=21, aux_loss=False)
    entries = [[name, list(t.shape)] for name, t in model.state_dict().items()]
    basic = [[name, list(t.shape)] for name, t in resnet18(weights=None).state_dict().items() if not name.startswith("fc.")]
    path = os.path.join(ROOT, "Tests", "Fixtures", "torchvision_keys.json")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "deeplabv3_resnet101": entries, "resnet18": basic}, f, separators=(",", ":"))
    print(f"wrote {os.path.relpath(path, ROOT)}: {len(entries)} keys")


if __name__ == "__main__":
    main()
