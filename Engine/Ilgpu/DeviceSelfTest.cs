namespace IlgpuSeg.Engine;

/// <summary>One op of the device self-test: largest errors against the CPU backend and the verdict.</summary>
public sealed record SelfTestResult(string Op, string Case, DType DType, double MaxAbsError, double MaxRelError, bool Pass, string? Error = null);

/// <summary>
/// Runs every <see cref="IKernels"/> op on a device and on the CPU backend with the same inputs (several
/// shapes, strided and broadcast views included) and compares: |device − cpu| ≤ atol + rtol·|cpu|.
/// Used by `ilgpuseg selftest` and by the parity tests.
/// </summary>
public static class DeviceSelfTest
{
    /// <summary>(atol, rtol) per dtype: float32 kernels differ from the CPU in summation order and libm.</summary>
    public static (double Atol, double Rtol) Tolerance(DType dtype) => dtype == DType.Float32 ? (2e-5, 2e-4) : (1e-11, 1e-9);

    private sealed record Case(string Op, string Shape, Func<Accelerator, DType, double[][]> Run);

    public static List<SelfTestResult> Run(Accelerator device, DType dtype, Accelerator? reference = null)
    {
        reference ??= Context.Default.Cpu;
        var (atol, rtol) = Tolerance(dtype);
        var results = new List<SelfTestResult>();
        foreach (var c in Cases(device))
        {
            try
            {
                var expected = c.Run(reference, dtype);
                var actual = c.Run(device, dtype);
                double maxAbs = 0, maxRel = 0;
                bool pass = expected.Length == actual.Length;
                for (int o = 0; pass && o < expected.Length; o++)
                {
                    if (expected[o].Length != actual[o].Length)
                    {
                        pass = false;
                        break;
                    }
                    for (int i = 0; i < expected[o].Length; i++)
                    {
                        double e = expected[o][i], a = actual[o][i];
                        if (double.IsNaN(e) || double.IsNaN(a) || double.IsInfinity(e) || double.IsInfinity(a))
                        {
                            if (!e.Equals(a)) pass = false;
                            continue;
                        }
                        double abs = Math.Abs(a - e);
                        maxAbs = Math.Max(maxAbs, abs);
                        if (e != 0) maxRel = Math.Max(maxRel, abs / Math.Abs(e));
                        if (abs > atol + rtol * Math.Abs(e)) pass = false;
                    }
                }
                results.Add(new SelfTestResult(c.Op, c.Shape, dtype, maxAbs, maxRel, pass));
            }
            catch (Exception e)
            {
                results.Add(new SelfTestResult(c.Op, c.Shape, dtype, double.NaN, double.NaN, false, e.GetType().Name + ": " + e.Message));
            }
        }
        return results;
    }

    /// <summary>A CPU-generated uniform tensor moved to <paramref name="acc"/>; same seed, same values everywhere.</summary>
    private static Tensor In(Accelerator acc, DType dtype, int[] shape, ulong seed, double lo = -1, double hi = 1) =>
        Tensor.Uniform(shape, new Generator(seed), lo, hi, dtype).To(acc);

    private static double[] Out(Tensor t) => t.ToDoubleArray();

    private static double[] Ints(int[] v) => Array.ConvertAll(v, i => (double)i);

    private static IEnumerable<Case> Cases(Accelerator device)
    {
        // ---- copy, cast, fill, random ----
        yield return new("Copy", "[3, 5, 7] contiguous", (acc, dt) =>
        {
            var x = In(acc, dt, [3, 5, 7], 1);
            var y = x.NewEmpty(3, 5, 7);
            acc.Kernels.Copy(x, y);
            return [Out(y)];
        });
        yield return new("Copy", "[7, 5, 3] permuted source", (acc, dt) =>
        {
            var x = In(acc, dt, [3, 5, 7], 2).Permute(2, 1, 0);
            var y = x.NewEmpty(7, 5, 3);
            acc.Kernels.Copy(x, y);
            return [Out(y)];
        });
        yield return new("Copy", "[4, 6] broadcast into a strided view", (acc, dt) =>
        {
            var x = In(acc, dt, [1, 6], 3).Expand(4, 6);
            var big = Tensor.Zeros([6, 9], dt, acc);
            acc.Kernels.Copy(x, big.Narrow(0, 1, 4).Narrow(1, 2, 6));
            return [Out(big)];
        });
        if (device.SupportsFloat64)
            yield return new("Cast", "[5, 9] sliced, to the other dtype", (acc, dt) =>
            {
                var x = In(acc, dt, [5, 18], 4, -100, 100).Slice(1, 0, 18, 2);
                var y = Tensor.Empty([5, 9], dt == DType.Float32 ? DType.Float64 : DType.Float32, acc);
                acc.Kernels.Cast(x, y);
                return [Out(y)];
            });
        yield return new("Fill", "[4, 3, 2] and a strided view", (acc, dt) =>
        {
            var x = Tensor.Zeros([4, 3, 2], dt, acc);
            acc.Kernels.Fill(x, 2.5);
            acc.Kernels.Fill(x.Slice(1, 0, 3, 2), -1.25);
            return [Out(x)];
        });
        // ---- optimizer ----
        foreach (var (lr, momentum, decay) in new[] { (0.05, 0.9, 5e-4), (0.3, 0.0, 0.0) })
            yield return new("SgdStep", $"[3, 70] at offsets, two steps, lr {lr} momentum {momentum} decay {decay}", (acc, dt) =>
            {
                var p = In(acc, dt, [4, 70], 30).Narrow(0, 1, 3);
                var b = In(acc, dt, [5, 70], 31).Narrow(0, 2, 3);
                for (int step = 0; step < 2; step++)
                    Ops.SgdStep(p, In(acc, dt, [3, 70], 32 + (ulong)step), b, new SgdStepArgs(lr, momentum, decay, FirstStep: step == 0));
                return [Out(p), Out(b)];
            });
        foreach (var dist in new[] { RandomDistribution.Uniform, RandomDistribution.Normal })
            yield return new("Random", $"[1000] {dist}", (acc, dt) =>
            {
                var gen = new Generator(42) { Counter = 77 };
                var x = Tensor.Empty([1000], dt, acc);
                acc.Kernels.Random(x, gen.Take(1000), dist, 0.5, 3);
                return [Out(x)];
            });

        // ---- elementwise ----
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            bool positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.PowScalar;
            double a = op switch { UnaryOp.Clamp or UnaryOp.InRange => -0.5, UnaryOp.PowScalar => 1.7, UnaryOp.AddScalar => 0.3, UnaryOp.MulScalar => -1.5, _ => 0 };
            double b = op is UnaryOp.Clamp or UnaryOp.InRange ? 0.5 : 0;
            yield return new($"Unary {op}", "[17, 33] transposed view", (acc, dt) =>
            {
                var x = In(acc, dt, [33, 17], 10 + (ulong)op, positive ? 0.1 : -3, 3).Transpose(0, 1);
                var y = x.NewEmpty(17, 33);
                acc.Kernels.Unary(op, x, y, a, b);
                return [Out(y)];
            });
        }
        foreach (var op in Enum.GetValues<BinaryOp>())
            yield return new($"Binary {op}", "[4, 1, 6] with [5, 6], broadcast", (acc, dt) =>
            {
                var x = In(acc, dt, [4, 1, 6], 30 + (ulong)op, op == BinaryOp.Pow ? 0.1 : -2, 2).Expand(4, 5, 6);
                var z = In(acc, dt, [5, 6], 40 + (ulong)op, -2, 2).Expand(4, 5, 6);
                var y = x.NewEmpty(4, 5, 6);
                acc.Kernels.Binary(op, x, z, y);
                return [Out(y)];
            });

        // ---- reductions, softmax, matmul ----
        foreach (var (rows, n) in new[] { (7, 1000), (3, 1), (65, 37) })
        {
            yield return new("SumLastAxis", $"[{rows}, {n}]", (acc, dt) =>
            {
                var x = In(acc, dt, [rows, n], 50);
                var y = x.NewEmpty(rows);
                acc.Kernels.SumLastAxis(x, y);
                return [Out(y)];
            });
            yield return new("MaxLastAxis", $"[{rows}, {n}]", (acc, dt) =>
            {
                var x = In(acc, dt, [rows, n], 51);
                var y = x.NewEmpty(rows);
                var argmax = new int[rows];
                acc.Kernels.MaxLastAxis(x, y, argmax);
                return [Out(y), Ints(argmax)];
            });
            foreach (bool log in new[] { false, true })
            {
                yield return new(log ? "LogSoftmax" : "Softmax", $"[{rows}, {n}]", (acc, dt) =>
                {
                    var x = In(acc, dt, [rows, n], 52, -5, 5);
                    var y = x.NewEmpty(rows, n);
                    acc.Kernels.Softmax(x, y, log);
                    return [Out(y)];
                });
                yield return new(log ? "LogSoftmaxBackward" : "SoftmaxBackward", $"[{rows}, {n}]", (acc, dt) =>
                {
                    var x = In(acc, dt, [rows, n], 53, -5, 5);
                    var y = x.NewEmpty(rows, n);
                    acc.Kernels.Softmax(x, y, log);
                    var dy = In(acc, dt, [rows, n], 54);
                    var dx = x.NewEmpty(rows, n);
                    acc.Kernels.SoftmaxBackward(y, dy, dx, log);
                    return [Out(dx)];
                });
            }
        }
        foreach (bool log in new[] { false, true })
        {
            // Along the middle axis of [outer, n, inner], as a channel softmax over [N, C, H·W] runs (inner 300 > one CPU block).
            yield return new(log ? "LogSoftmax" : "Softmax", "[3, 7, 300] along axis 1", (acc, dt) =>
            {
                var x = In(acc, dt, [3, 7, 300], 55, -5, 5);
                var y = x.NewEmpty(3, 7, 300);
                acc.Kernels.Softmax(x, y, log);
                return [Out(y)];
            });
            yield return new(log ? "LogSoftmaxBackward" : "SoftmaxBackward", "[3, 7, 300] along axis 1", (acc, dt) =>
            {
                var x = In(acc, dt, [3, 7, 300], 56, -5, 5);
                var y = x.NewEmpty(3, 7, 300);
                acc.Kernels.Softmax(x, y, log);
                var dy = In(acc, dt, [3, 7, 300], 57);
                var dx = x.NewEmpty(3, 7, 300);
                acc.Kernels.SoftmaxBackward(y, dy, dx, log);
                return [Out(dx)];
            });
        }
        yield return new("MaxLastAxis", "[3, 8] with NaN, ties and −inf", (acc, dt) =>
        {
            double nan = double.NaN, inf = double.PositiveInfinity;
            double[] v = [1, 3, 3, nan, 2, nan, 0, 1, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, 5, 1, 5, 2, 5, 0, 0, 0];
            var x = dt == DType.Float32 ? Tensor.FromArray(Array.ConvertAll(v, d => (float)d), [3, 8], acc) : Tensor.FromArray(v, [3, 8], acc);
            var y = x.NewEmpty(3);
            var argmax = new int[3];
            acc.Kernels.MaxLastAxis(x, y, argmax);
            return [Out(y), Ints(argmax)];
        });
        foreach (var (bsz, m, k, n, view) in new[] { (2, 33, 65, 47, "plain"), (3, 1, 70, 9, "B transposed"), (2, 40, 16, 70, "A transposed, batch broadcast") })
            yield return new("MatMul", $"[{bsz}, {m}, {k}] x [{bsz}, {k}, {n}] {view}", (acc, dt) =>
            {
                var a = view.StartsWith('A') ? In(acc, dt, [1, k, m], 60).Transpose(1, 2).Expand(bsz, m, k) : In(acc, dt, [bsz, m, k], 60);
                var b = view.StartsWith('B') ? In(acc, dt, [bsz, n, k], 61).Transpose(1, 2) : In(acc, dt, [bsz, k, n], 61);
                var y = a.NewEmpty(bsz, m, n);
                acc.Kernels.MatMul(a, b, y);
                return [Out(y)];
            });

        // ---- index ops and loss ----
        yield return new("IndexSelect", "[2, 5, 3] index [4]", (acc, dt) =>
        {
            var x = In(acc, dt, [2, 5, 3], 70);
            var y = x.NewEmpty(2, 4, 3);
            acc.Kernels.IndexSelect(x, [4, 0, 4, 2], y);
            return [Out(y)];
        });
        yield return new("IndexAdd", "[2, 4, 3] into [2, 5, 3]", (acc, dt) =>
        {
            var dy = In(acc, dt, [2, 4, 3], 71);
            var dx = In(acc, dt, [2, 5, 3], 72);
            acc.Kernels.IndexAdd(dy, [4, 0, 4, 2], dx);
            return [Out(dx)];
        });
        int[] gatherIndex = [.. Enumerable.Range(0, 2 * 4 * 3).Select(i => i * 7 % 5)];
        yield return new("Gather", "[2, 5, 3] → [2, 4, 3]", (acc, dt) =>
        {
            var x = In(acc, dt, [2, 5, 3], 73);
            var y = x.NewEmpty(2, 4, 3);
            acc.Kernels.Gather(x, gatherIndex, y);
            return [Out(y)];
        });
        yield return new("ScatterAdd", "[2, 4, 3] into [2, 5, 3]", (acc, dt) =>
        {
            var dy = In(acc, dt, [2, 4, 3], 74);
            var dx = In(acc, dt, [2, 5, 3], 75);
            acc.Kernels.ScatterAdd(dy, gatherIndex, dx);
            return [Out(dx)];
        });
        int[] target = [0, 2, -100, 1, 3, 3, 0, -100, 2, 1, 1, 0];
        foreach (bool weighted in new[] { false, true })
        {
            yield return new("Nll", $"[2, 4, 6]{(weighted ? " weighted" : "")}, ignore −100", (acc, dt) =>
            {
                var logp = In(acc, dt, [2, 4, 6], 80, -3, 0);
                var w = weighted ? In(acc, dt, [8], 81, 0.5, 2).Slice(0, 0, 8, 2) : null;
                var loss = logp.NewEmpty(2, 6);
                var used = logp.NewEmpty(2, 6);
                acc.Kernels.Nll(logp, target, w, -100, loss, used);
                return [Out(loss), Out(used)];
            });
            yield return new("NllBackward", $"[2, 4, 6]{(weighted ? " weighted" : "")}, ignore −100", (acc, dt) =>
            {
                var g = In(acc, dt, [2, 6], 82);
                var w = weighted ? In(acc, dt, [4], 83, 0.5, 2) : null;
                var dlogp = Tensor.Zeros([2, 4, 6], dt, acc);
                acc.Kernels.NllBackward(g, target, w, -100, dlogp);
                return [Out(dlogp)];
            });
        }

        // ---- convolution ----
        var convs = new (int[] X, int[] W, Conv2dGeometry G, bool Bias)[]
        {
            ([2, 3, 9, 11], [4, 3, 3, 3], Conv2dGeometry.Square(2, 1, 1), true),
            ([1, 5, 10, 10], [6, 5, 3, 3], Conv2dGeometry.Square(1, 2, 2), false),
            ([2, 8, 5, 7], [3, 8, 1, 1], Conv2dGeometry.Square(1, 0, 1), true),
            ([2, 2, 8, 6], [3, 2, 2, 3], new Conv2dGeometry(1, 2, 0, 1, 1, 1), false),
            ([1, 128, 6, 7], [128, 128, 3, 3], Conv2dGeometry.Square(1, 2, 2), true), // Winograd on the CPU backend
        };
        foreach (var (xs, ws, g, bias) in convs)
        {
            string shape = $"x {Shape.Format(xs)} w {Shape.Format(ws)} {g}";
            int[] ys = [xs[0], ws[0], g.OutH(xs[2], ws[2]), g.OutW(xs[3], ws[3])];
            yield return new("Conv2d", shape, (acc, dt) =>
            {
                var x = In(acc, dt, xs, 90);
                var w = In(acc, dt, ws, 91);
                var b = bias ? In(acc, dt, [ws[0]], 92) : null;
                var y = Tensor.Empty(ys, dt, acc);
                acc.Kernels.Conv2d(x, w, b, y, g);
                return [Out(y)];
            });
            yield return new("Conv2dBackwardInput", shape, (acc, dt) =>
            {
                var dy = In(acc, dt, ys, 93);
                var w = In(acc, dt, ws, 91);
                var dx = Tensor.Zeros(xs, dt, acc);
                acc.Kernels.Conv2dBackwardInput(dy, w, dx, g);
                return [Out(dx)];
            });
            yield return new("Conv2dBackwardWeight", shape, (acc, dt) =>
            {
                var x = In(acc, dt, xs, 90);
                var dy = In(acc, dt, ys, 93);
                var dw = Tensor.Empty(ws, dt, acc);
                acc.Kernels.Conv2dBackwardWeight(x, dy, dw, g);
                return [Out(dw)];
            });
        }

        // ---- batch norm ----
        foreach (var (n, c, s) in new[] { (2, 3, 20), (4, 5, 1), (1, 2, 300) })
        {
            string shape = $"[{n}, {c}, {s}]";
            yield return new("BatchNormStats", shape, (acc, dt) =>
            {
                var x = In(acc, dt, [n, c, s], 100, -2, 3);
                var mean = x.NewEmpty(c);
                var variance = x.NewEmpty(c);
                acc.Kernels.BatchNormStats(x, mean, variance);
                return [Out(mean), Out(variance)];
            });
            foreach (var (affine, relu) in new[] { (true, false), (false, false), (true, true), (false, true) })
            {
                string fused = relu ? ", fused ReLU" : "";
                yield return new("BatchNormForward", shape + (affine ? " affine" : "") + fused, (acc, dt) =>
                {
                    var x = In(acc, dt, [n, c, s], 101);
                    var mean = In(acc, dt, [c], 102);
                    var invStd = In(acc, dt, [c], 103, 0.5, 2);
                    var w = affine ? In(acc, dt, [c], 104) : null;
                    var b = affine ? In(acc, dt, [c], 105) : null;
                    var y = x.NewEmpty(n, c, s);
                    acc.Kernels.BatchNormForward(x, mean, invStd, w, b, y, relu);
                    return [Out(y)];
                });
                bool batchStats = affine;
                yield return new("BatchNormBackward", shape + (affine ? " affine, batch stats" : " running stats") + fused, (acc, dt) =>
                {
                    var x = In(acc, dt, [n, c, s], 106);
                    var dy = In(acc, dt, [n, c, s], 107);
                    var mean = In(acc, dt, [c], 108);
                    var invStd = In(acc, dt, [c], 109, 0.5, 2);
                    var w = affine ? In(acc, dt, [c], 110) : null;
                    var dx = x.NewEmpty(n, c, s);
                    var dw = x.NewEmpty(c);
                    var db = x.NewEmpty(c);
                    var reluOutput = relu ? In(acc, dt, [n, c, s], 111) : null; // about half the gates open
                    acc.Kernels.BatchNormBackward(x, dy, mean, invStd, w, batchStats, dx, dw, db, reluOutput);
                    return [Out(dx), Out(dw), Out(db)];
                });
            }
        }

        // ---- the fused DPL reverse step ----
        var step = new DiffusionStep(0.8, 0.6, 0.7, 0.25, 0.1);
        foreach (bool noise in new[] { true, false })
            yield return new("DiffusionReverseStep", "[5, 33]" + (noise ? " with z" : " last step"), (acc, dt) =>
            {
                var pt = In(acc, dt, [5, 33], 120);
                var eps = In(acc, dt, [5, 33], 121);
                var z = noise ? In(acc, dt, [5, 33], 122) : null;
                var y = pt.NewEmpty(5, 33);
                acc.Kernels.DiffusionReverseStep(pt, eps, z, y, step);
                return [Out(y)];
            });
        yield return new("DiffusionReverseStepBackward", "[5, 33]", (acc, dt) =>
        {
            var dy = In(acc, dt, [5, 33], 123);
            var (dpt, deps) = (dy.NewEmpty(5, 33), dy.NewEmpty(5, 33));
            acc.Kernels.DiffusionReverseStepBackward(dy, dpt, deps, step);
            return [Out(dpt), Out(deps)];
        });

        // ---- attention ----
        yield return new("Attention", "[2, 7, 5] × [2, 9, 5] × [2, 9, 4]", (acc, dt) =>
        {
            var (q, k, v) = (In(acc, dt, [2, 7, 5], 130), In(acc, dt, [2, 9, 5], 131), In(acc, dt, [2, 9, 4], 132));
            var (a, y) = (q.NewEmpty(2, 7, 9), q.NewEmpty(2, 7, 4));
            acc.Kernels.Attention(q, k, v, 0.45, a, y);
            return [Out(a), Out(y)];
        });
        yield return new("AttentionBackward", "[2, 7, 5] × [2, 9, 5] × [2, 9, 4]", (acc, dt) =>
        {
            var (q, k, v) = (In(acc, dt, [2, 7, 5], 133), In(acc, dt, [2, 9, 5], 134), In(acc, dt, [2, 9, 4], 135));
            var (a, y) = (q.NewEmpty(2, 7, 9), q.NewEmpty(2, 7, 4));
            acc.Kernels.Attention(q, k, v, 0.45, a, y);
            var dy = In(acc, dt, [2, 7, 4], 136);
            var (dq, dk, dv) = (q.NewEmpty(2, 7, 5), q.NewEmpty(2, 9, 5), q.NewEmpty(2, 9, 4));
            acc.Kernels.AttentionBackward(q, k, v, a, dy, 0.45, dq, dk, dv);
            return [Out(dq), Out(dk), Out(dv)];
        });

        // ---- pooling and resize over planes ----
        foreach (var (h, w, g) in new[] { (9, 11, new Pool2dGeometry(3, 2, 1)), (8, 8, new Pool2dGeometry(2, 2, 0)), (7, 5, new Pool2dGeometry(3, 1, 1)) })
        {
            string shape = $"[6, {h}, {w}] {g}";
            int ho = g.Out(h), wo = g.Out(w);
            yield return new("MaxPool2d", shape, (acc, dt) =>
            {
                var x = In(acc, dt, [6, h, w], 120);
                var y = x.NewEmpty(6, ho, wo);
                var argmax = new int[y.Count];
                acc.Kernels.MaxPool2d(x, y, argmax, g);
                return [Out(y), Ints(argmax)];
            });
            yield return new("MaxPool2dBackward", shape, (acc, dt) =>
            {
                var argmax = new int[6 * ho * wo];
                Context.Default.Cpu.Kernels.MaxPool2d(In(Context.Default.Cpu, dt, [6, h, w], 120), Tensor.Empty([6, ho, wo], dt), argmax, g);
                var dy = In(acc, dt, [6, ho, wo], 121);
                var dx = Tensor.Zeros([6, h, w], dt, acc);
                acc.Kernels.MaxPool2dBackward(dy, argmax, dx);
                return [Out(dx)];
            });
            yield return new("AvgPool2d", shape, (acc, dt) =>
            {
                var x = In(acc, dt, [6, h, w], 122);
                var y = x.NewEmpty(6, ho, wo);
                acc.Kernels.AvgPool2d(x, y, g, false);
                return [Out(y)];
            });
            yield return new("AvgPool2dBackward", shape, (acc, dt) =>
            {
                var dy = In(acc, dt, [6, ho, wo], 123);
                var dx = Tensor.Zeros([6, h, w], dt, acc);
                acc.Kernels.AvgPool2dBackward(dy, dx, g, false);
                return [Out(dx)];
            });
        }
        foreach (var (h, w, ho, wo) in new[] { (9, 11, 4, 3), (5, 7, 5, 7), (6, 6, 1, 1) })
        {
            string shape = $"[6, {h}, {w}] → [{ho}, {wo}]";
            yield return new("AdaptiveAvgPool2d", shape, (acc, dt) =>
            {
                var x = In(acc, dt, [6, h, w], 124);
                var y = x.NewEmpty(6, ho, wo);
                acc.Kernels.AvgPool2d(x, y, default, true);
                return [Out(y)];
            });
            yield return new("AdaptiveAvgPool2dBackward", shape, (acc, dt) =>
            {
                var dy = In(acc, dt, [6, ho, wo], 125);
                var dx = Tensor.Zeros([6, h, w], dt, acc);
                acc.Kernels.AvgPool2dBackward(dy, dx, default, true);
                return [Out(dx)];
            });
        }
        foreach (var (h, w, ho, wo) in new[] { (5, 7, 13, 16), (17, 20, 6, 9), (4, 4, 1, 9) })
            foreach (bool align in new[] { false, true })
            {
                string shape = $"[3, {h}, {w}] → [{ho}, {wo}] align_corners={align}";
                yield return new("ResizeBilinear", shape, (acc, dt) =>
                {
                    var x = In(acc, dt, [3, h, w], 130);
                    var y = x.NewEmpty(3, ho, wo);
                    acc.Kernels.ResizeBilinear(x, y, align);
                    return [Out(y)];
                });
                yield return new("ResizeBilinearBackward", shape, (acc, dt) =>
                {
                    var dy = In(acc, dt, [3, ho, wo], 131);
                    var dx = Tensor.Zeros([3, h, w], dt, acc);
                    acc.Kernels.ResizeBilinearBackward(dy, dx, align);
                    return [Out(dx)];
                });
            }
    }
}
