#!/usr/bin/python3
"""PyTorch CPU timings to compare the C# engine against.

Run from the repository root:  /usr/bin/python3 tools/bench_torch.py conv [--net resnet50] [--cold]
  conv: for every shape in Benchmarks/<net>_os8_conv_shapes.json (see tools/conv_shapes.py; resnet101 by
        default), times forward, backward-input and backward-weight separately and prints a Markdown table.
        --cold writes a buffer larger than the last-level cache before every timed run, so operands come
        from memory as in a training step, where a layer's weights were last touched a whole pass ago.
"""
import argparse
import datetime
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conv_shapes  # noqa: E402  (the shape list shared with the C# benchmark)

THREADS = 2
MIN_RUNS = 5          # median of at least this many timed runs
MIN_SECONDS = 0.5     # small shapes get more runs (up to MAX_RUNS) so their median is less noisy
MAX_RUNS = 30


EVICT_FLOATS = 64 << 20  # 256 MB, over twice the largest last-level cache seen here (105 MB)
_evict = None


def evict_caches():
    """Dirties one float per 64-byte line of a 256 MB buffer: the caches then hold it instead of the operands."""
    global _evict
    if _evict is None:
        _evict = torch.zeros(EVICT_FLOATS)
    _evict[::16] += 1.0


def median_ms(fn, cold=False):
    """Median wall time of fn() in ms: one untimed warm-up (allocations, oneDNN primitive
    creation), then at least MIN_RUNS timed runs, more while the timed total is under MIN_SECONDS;
    with cold, the caches are evicted before each timed run."""
    fn()
    times = []
    while len(times) < MIN_RUNS or (sum(times) < MIN_SECONDS and len(times) < MAX_RUNS):
        if cold:
            evict_caches()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, len(times)


def bench_conv_shape(s, cold):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(s["n"], s["c_in"], s["h"], s["w"], generator=g)
    w = torch.randn(s["c_out"], s["c_in"], s["kernel"], s["kernel"], generator=g)
    b = torch.randn(s["c_out"], generator=g) if s["bias"] else None
    args = dict(stride=s["stride"], padding=s["padding"], dilation=s["dilation"])
    ho, wo = conv_shapes.out_size(s)
    gy = torch.randn(s["n"], s["c_out"], ho, wo, generator=g)

    # No autograd anywhere: each measurement is exactly one kernel call. conv2d_input and
    # conv2d_weight call aten::convolution_backward with only that one output requested, which is
    # what autograd would run when only x (or only w) requires grad.
    with torch.no_grad():
        y = F.conv2d(x, w, b, **args)
        assert y.shape == gy.shape, (y.shape, gy.shape)
        fwd, runs = median_ms(lambda: F.conv2d(x, w, b, **args), cold)
        bwd_in, _ = median_ms(lambda: torch.nn.grad.conv2d_input(x.shape, w, gy, **args), cold)
        bwd_w, _ = median_ms(lambda: torch.nn.grad.conv2d_weight(x, w.shape, gy, **args), cold)
    return fwd, bwd_in, bwd_w, runs


def print_environment():
    print(f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"- torch {torch.__version__}, Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} logical CPUs")
    print(f"- torch threads: {torch.get_num_threads()} (torch.set_num_threads({THREADS})), "
          f"interop threads: {torch.get_num_interop_threads()}")
    print(f"- oneDNN (mkldnn) available: {torch.backends.mkldnn.is_available()}, "
          f"MKL available: {torch.backends.mkl.is_available()}, OpenMP: {torch.backends.openmp.is_available()}")
    # the BLAS torch was built against, from its build configuration
    config = torch.__config__.show()
    blas = [part.strip() for part in config.replace("\n", ",").split(",")
            if part.strip().startswith(("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "USE_OPENMP"))]
    print(f"- build: {', '.join(blas)}")
    env = ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_DEBUG_CPU_TYPE",
           "OPENBLAS_CORETYPE", "DNNL_MAX_CPU_ISA", "ONEDNN_MAX_CPU_ISA"]
    print("- environment: " + ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in env))
    load = os.getloadavg()
    print(f"- load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


NET_TITLES = {"resnet101": "ResNet-101 OS8 + ASPP shapes at 2 × 256²", "resnet50": "ResNet-50 OS8 shapes at 2 × 128²"}


def conv(net, cold):
    shapes = conv_shapes.load_shapes(net)
    print(f"# PyTorch conv2d timings: {NET_TITLES[net]}{', cold caches' if cold else ''}\n")
    print_environment()
    print(f"- method: float32, one untimed warm-up, then the median of >= {MIN_RUNS} runs "
          f"(more for fast shapes, until {MIN_SECONDS} s or {MAX_RUNS} runs); "
          "backward-input = torch.nn.grad.conv2d_input, backward-weight = torch.nn.grad.conv2d_weight"
          + ("; a 256 MB buffer is written before every timed run (cold caches)" if cold else "") + "\n")
    print("| shape | forward ms | backward-input ms | backward-weight ms | GFLOP/s |")
    print("|---|---:|---:|---:|---:|")
    total = [0.0, 0.0, 0.0]
    per_step = [0.0, 0.0, 0.0]
    total_flops = 0
    for s in shapes:
        fwd, bwd_in, bwd_w, _ = bench_conv_shape(s, cold)
        flops = conv_shapes.forward_flops(s)
        print(f"| {conv_shapes.describe(s)} | {fwd:.2f} | {bwd_in:.2f} | {bwd_w:.2f} | "
              f"{flops / (fwd * 1e-3) / 1e9:.1f} |", flush=True)
        total = [t + v for t, v in zip(total, (fwd, bwd_in, bwd_w))]
        per_step = [t + s["count"] * v for t, v in zip(per_step, (fwd, bwd_in, bwd_w))]
        total_flops += flops
    print(f"| total | {total[0]:.2f} | {total[1]:.2f} | {total[2]:.2f} | "
          f"{total_flops / (total[0] * 1e-3) / 1e9:.1f} |")
    print(f"| per step | {per_step[0]:.2f} | {per_step[1]:.2f} | {per_step[2]:.2f} | |")
    print(f"\nThe total row is the plain sum over the {len(shapes)} distinct shapes (each counted once, "
          "not weighted by its count in the network); its GFLOP/s is the summed forward FLOPs "
          "over the summed forward time. The per-step row weights each shape by its count (the first "
          "conv's backward-input is not needed in training but is included).")
    load = os.getloadavg()
    print(f"\nLoad average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["conv"], help="which benchmark to run")
    parser.add_argument("--net", choices=conv_shapes.NETS, default="resnet101", help="which shape list")
    parser.add_argument("--cold", action="store_true", help="evict the caches before every timed run")
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    conv(args.net, args.cold)


if __name__ == "__main__":
    main()
