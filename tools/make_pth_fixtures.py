#!/usr/bin/python3
"""Generates Tests/Fixtures/pth/: small torch.save checkpoints and the values our reader must find in them.

Run from the repository root:  /usr/bin/python3 tools/make_pth_fixtures.py
(Debian's Python; the pyenv `python3` on PATH has no torch.)

Files (see Tests/Fixtures/README.md):
  bare.pth          a tiny Conv2d + BatchNorm2d + Linear state dict (running stats, num_batches_tracked)
  checkpoint.pth    {'state_dict': ..., 'epoch': 3, 'optimizer': ..., 'best_dice': 0.5}
  dataparallel.pth  {'model': nn.DataParallel(...).state_dict()}: every key starts with 'module.'
  views.pth         non-contiguous views, storage offsets, tensors sharing one storage, a stride-0 view
  dtypes.pth        float64, float16, bfloat16, int64, int32, uint8, bool, 0-d tensors, a Parameter
  protocol4.pth     the bare state dict pickled with protocol 4 (FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE)
  legacy.pth        the bare state dict in the pre-1.6 non-zip format (to be refused with advice)
  evil_os_system.pth    zip whose data.pkl calls os.system via GLOBAL + REDUCE (hand-written opcodes)
  evil_builtins_eval.pth  zip whose data.pkl calls builtins.eval via STACK_GLOBAL + REDUCE
  expected.safetensors  for each good file, its tensors as `<file>/<name>` (names after stripping
                    'module.'), float64/int64 as F64 and the rest as F32 (the reader's widening), and a
                    metadata entry `<file>` = JSON {"names": [...in file order], "dtypes": [...as stored]}

The evil files are never unpickled by anything here; they are built byte by byte.
"""
import json
import os
import sys
import zipfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402  (our own writer; the safetensors package is unavailable)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "pth")
MAX_TOTAL_BYTES = 300_000

torch.manual_seed(20240601)
torch.set_num_threads(1)


def small_model():
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 5))
    model.train()
    with torch.no_grad():
        for _ in range(2):  # non-trivial running stats, num_batches_tracked = 2
            model(torch.randn(2, 3, 6, 6))
    return model


def views():
    big = torch.arange(40, dtype=torch.float32) * 0.25 - 3.0
    matrix = torch.randn(4, 6)
    return {
        "transposed": torch.randn(3, 5).t(),          # stride (1, 5)
        "column_slice": matrix[:, 1:4],               # offset 1, stride (6, 1)
        "row_step": matrix[::2, ::3],                 # stride (12, 3)
        "shared_whole": big,                          # the three 'shared_*' use one storage
        "shared_slice": big[3:9],                     # offset 3
        "shared_matrix": big[10:22].view(3, 4).t(),   # offset 10, stride (1, 4)
        "expanded": torch.randn(3, 1).expand(3, 4),   # stride (1, 0)
    }


def dtypes():
    return {
        "f64": torch.randn(2, 3, dtype=torch.float64),
        "f16": torch.randn(5).half(),
        "bf16": torch.randn(4).bfloat16(),
        "i64": torch.tensor([-3, 0, 2**40, 7]),
        "i32": torch.tensor([[1, -2], [2**20, 4]], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar_f32": torch.tensor(2.5),
        "scalar_i64": torch.tensor(42),
        "param": torch.nn.Parameter(torch.randn(2, 2)),
        "empty": torch.zeros(0, 3),
    }


def zip_with_pickle(path, archive, pkl):
    """A zip laid out like torch.save's, holding only a hand-made data.pkl and a version record."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo(f"{archive}/data.pkl"), pkl)
        z.writestr(zipfile.ZipInfo(f"{archive}/version"), b"3\n")


def evil_os_system():
    # {'weight': os.system('echo pwned')} in protocol 2 opcodes: GLOBAL then REDUCE on a 1-tuple.
    cmd = b"echo pwned"
    return (b"\x80\x02" + b"}" + b"(" + b"X" + len(b"weight").to_bytes(4, "little") + b"weight"
            + b"cos\nsystem\n" + b"X" + len(cmd).to_bytes(4, "little") + cmd + b"\x85" + b"R"
            + b"u" + b".")


def evil_builtins_eval():
    # {'weight': builtins.eval("__import__('os').system(...)")} in protocol 4 opcodes: STACK_GLOBAL then REDUCE.
    src = b"__import__('os').system('echo pwned')"
    return (b"\x80\x04" + b"}" + b"(" + b"\x8c\x06weight"
            + b"\x8c\x08builtins" + b"\x8c\x04eval" + b"\x93"
            + b"X" + len(src).to_bytes(4, "little") + src + b"\x85" + b"R"
            + b"u" + b".")


def expected_entries(state_dict, strip_module=False):
    """(name, stored dtype, numpy value as the reader widens it) in file order."""
    out = []
    for name, t in state_dict.items():
        if not isinstance(t, torch.Tensor):
            continue
        t = t.detach()
        if strip_module and name.startswith("module."):
            name = name[len("module."):]
        stored = str(t.dtype).replace("torch.", "")
        wide = torch.float64 if t.dtype in (torch.float64, torch.int64) else torch.float32
        out.append((name, stored, t.to(wide).contiguous().numpy()))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    model = small_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 3, 6, 6)).sum().backward()
    optimizer.step()  # momentum buffers: tensors in the checkpoint outside the state dict
    sd = model.state_dict()  # an OrderedDict with a _metadata attribute (pickled with BUILD)

    good = {
        "bare.pth": (sd, sd, False),
        "checkpoint.pth": ({"state_dict": sd, "epoch": 3, "optimizer": optimizer.state_dict(), "best_dice": 0.5,
                            "args": {"lr": 0.1, "name": "tiny", "flags": [True, None]}}, sd, False),
        "dataparallel.pth": ({"model": torch.nn.DataParallel(model).state_dict()},
                             torch.nn.DataParallel(model).state_dict(), True),
        "views.pth": (views(), None, False),
        "dtypes.pth": (dtypes(), None, False),
    }
    tensors, metadata = {}, {}
    for file, (obj, state_dict, strip) in good.items():
        torch.save(obj, os.path.join(OUT, file))
        entries = expected_entries(state_dict if state_dict is not None else obj, strip)
        for name, _, value in entries:
            tensors[f"{file}/{name}"] = value
        metadata[file] = json.dumps({"names": [n for n, _, _ in entries], "dtypes": [d for _, d, _ in entries]})
        # torch itself must read back what the file was made from
        back = torch.load(os.path.join(OUT, file))
        assert back.keys() == obj.keys(), file

    # protocol 4 and the legacy format hold the bare state dict; expected values are bare.pth's
    torch.save(sd, os.path.join(OUT, "protocol4.pth"), pickle_protocol=4)
    torch.save(sd, os.path.join(OUT, "legacy.pth"), _use_new_zipfile_serialization=False)
    with zipfile.ZipFile(os.path.join(OUT, "protocol4.pth")) as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))
        assert b"\x93" in pkl and b"\x95" in pkl, "protocol 4 pickle lacks STACK_GLOBAL/FRAME"

    zip_with_pickle(os.path.join(OUT, "evil_os_system.pth"), "evil_os_system", evil_os_system())
    zip_with_pickle(os.path.join(OUT, "evil_builtins_eval.pth"), "evil_builtins_eval", evil_builtins_eval())

    safetensors_io.write(os.path.join(OUT, "expected.safetensors"), tensors, metadata)

    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {OUT}")
    if total > MAX_TOTAL_BYTES:
        raise SystemExit(f"fixtures total {total} bytes > {MAX_TOTAL_BYTES}")


if __name__ == "__main__":
    main()
