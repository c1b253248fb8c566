using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Engine;

/// <summary>Forward values of the ops against plain loops written here, and the fast CPU paths against their scalar references.</summary>
public class OpForwardTests
{
    private static Tensor Randn(int[] shape, ulong seed, DType dtype = DType.Float64) => Tensor.Normal(shape, new Generator(seed), dtype: dtype);

    [Theory]
    [InlineData(UnaryOp.Neg)]
    [InlineData(UnaryOp.Abs)]
    [InlineData(UnaryOp.Sqrt)]
    [InlineData(UnaryOp.Relu)]
    [InlineData(UnaryOp.AddScalar)]
    [InlineData(UnaryOp.MulScalar)]
    [InlineData(UnaryOp.Exp)]
    [InlineData(UnaryOp.Tanh)]
    public void FastUnaryMatchesScalarReferenceBitForBit(UnaryOp op)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = Randn([1001], 3, dtype);
            if (op == UnaryOp.Sqrt) x = Ops.Abs(x);
            var fast = Ops.Unary(op, x, 1.25).ToDoubleArray();
            var reference = x.ToDoubleArray().Select(v => dtype == DType.Float32
                ? (double)CpuKernels.ApplyUnary(op, (float)v, 1.25f, 0f)
                : CpuKernels.ApplyUnary(op, v, 1.25, 0.0)).ToArray();
            Assert.Equal(reference, fast);
        }
    }

    [Theory]
    [InlineData(BinaryOp.Add)]
    [InlineData(BinaryOp.Sub)]
    [InlineData(BinaryOp.Mul)]
    [InlineData(BinaryOp.Div)]
    [InlineData(BinaryOp.Max)]
    public void FastBinaryMatchesScalarReferenceWithBroadcasting(BinaryOp op)
    {
        var a = Randn([7, 33], 4, DType.Float32);
        var b = Randn([33], 5, DType.Float32);
        var s = Randn([1], 6, DType.Float32);
        var av = a.ToArray<float>();
        var bv = b.ToArray<float>();
        var sv = s.ToArray<float>()[0];
        Assert.Equal(av.Select((v, i) => CpuKernels.ApplyBinary(op, v, bv[i % 33])), Ops.Binary(op, a, b).ToArray<float>());
        Assert.Equal(av.Select(v => CpuKernels.ApplyBinary(op, sv, v)), Ops.Binary(op, s, a).ToArray<float>());
        Assert.Equal(av.Select(v => CpuKernels.ApplyBinary(op, v, sv)), Ops.Binary(op, a, s).ToArray<float>());
    }

    [Fact]
    public void FastReluGradMatchesScalarReferenceBitForBit()
    {
        // Gates on, off, exactly ±0 and NaN; gradients with negative values and infinities (−g·0 = −0, ∞·0 = NaN).
        double[] special = [0.0, -0.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e-300, -1e-300];
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var g = Randn([1001], 7).ToDoubleArray();
            var gate = Randn([1001], 8).ToDoubleArray();
            for (int i = 0; i < 70; i++)
            {
                gate[i * 13] = special[i % special.Length];
                g[i * 11 + 3] = special[(i + 3) % special.Length];
            }
            var gt = Tensor.FromArray(g, [1001]).To(dtype);
            var gatet = Tensor.FromArray(gate, [1001]).To(dtype);
            var fast = Ops.ReluBackward(gt, gatet).ToDoubleArray();
            var reference = gt.ToDoubleArray().Zip(gatet.ToDoubleArray(), (a, b) => dtype == DType.Float32
                ? (double)CpuKernels.ApplyBinary(BinaryOp.ReluGrad, (float)a, (float)b)
                : CpuKernels.ApplyBinary(BinaryOp.ReluGrad, a, b)).ToArray();
            Assert.Equal(reference.Select(BitConverter.DoubleToInt64Bits), fast.Select(BitConverter.DoubleToInt64Bits));
        }
    }

    [Theory]
    [InlineData(true, true, false)]
    [InlineData(true, true, true)]
    [InlineData(false, true, false)]
    [InlineData(true, false, false)]
    public void FastSgdStepMatchesItsScalarRuleBitForBitOnAnyThreadCount(bool decay, bool momentum, bool first)
    {
        // 150001 elements: several parallel chunks, the SIMD body, and a scalar tail.
        var args = new SgdStepArgs(0.0123, momentum ? 0.9 : 0, decay ? 5e-4 : 0, first);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var p0 = Randn([150001], 21, dtype).ToDoubleArray();
            var g = Randn([150001], 22, dtype).ToDoubleArray();
            var b0 = Randn([150001], 23, dtype).ToDoubleArray();
            double[] expectedP = (double[])p0.Clone(), expectedB = (double[])b0.Clone();
            for (int i = 0; i < p0.Length; i++)
            {
                if (dtype == DType.Float32)
                {
                    float p = (float)p0[i], b = (float)b0[i];
                    CpuKernels.SgdScalar(ref p, (float)g[i], ref b, (float)args.LearningRate, (float)args.Momentum, (float)args.WeightDecay, decay, momentum, first);
                    (expectedP[i], expectedB[i]) = (p, b);
                }
                else CpuKernels.SgdScalar(ref expectedP[i], g[i], ref expectedB[i], args.LearningRate, args.Momentum, args.WeightDecay, decay, momentum, first);
            }
            foreach (var threads in new[] { 1, 2 })
            {
                var acc = Context.Default.CreateCpuAccelerator(threads);
                Tensor On(double[] v) => Tensor.FromArray(v, [v.Length]).To(dtype).To(acc);
                var (pt, bt) = (On(p0), On(b0));
                Ops.SgdStep(pt, On(g), bt, args);
                Assert.Equal(expectedP.Select(BitConverter.DoubleToInt64Bits), pt.ToDoubleArray().Select(BitConverter.DoubleToInt64Bits));
                Assert.Equal(expectedB.Select(BitConverter.DoubleToInt64Bits), bt.ToDoubleArray().Select(BitConverter.DoubleToInt64Bits));
            }
        }
    }

    [Fact]
    public void BatchNormRowsMatchTheirScalarTailBitForBit()
    {
        // A row of 37 runs mostly through the SIMD body; one element at a time runs only through the scalar tail.
        var x = Randn([37], 9, DType.Float32).ToArray<float>();
        var dy = Randn([37], 10, DType.Float32).ToArray<float>();
        var reluOutput = Randn([37], 11, DType.Float32).ToArray<float>();
        reluOutput[5] = 0f;
        const float m = 0.3f, istd = 1.7f, w = -0.8f, meanDy = 0.05f, meanDyXhat = -0.2f;
        var y = new float[37];
        CpuKernels.NormalizeRow<float>(x, y, m, istd * w, 0.4f);
        var yOne = x.Select(v => { var o = new float[1]; CpuKernels.NormalizeRow<float>([v], o, m, istd * w, 0.4f); return o[0]; });
        Assert.Equal(yOne.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));
        foreach (bool relu in new[] { false, true })
        {
            var dx = new float[37];
            CpuKernels.BackwardDxRow<float>(x, dy, reluOutput, relu, dx, m, istd, w * istd, meanDy, meanDyXhat);
            var dxOne = Enumerable.Range(0, 37).Select(j =>
            {
                var o = new float[1];
                CpuKernels.BackwardDxRow<float>([x[j]], [dy[j]], [reluOutput[j]], relu, o, m, istd, w * istd, meanDy, meanDyXhat);
                return o[0];
            });
            Assert.Equal(dxOne.Select(BitConverter.SingleToInt32Bits), dx.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void BatchNormRowSumsMatchSequentialSums()
    {
        foreach (int n in new[] { 5, 37, 1000 })
        {
            var x = Randn([n], 12, DType.Float32).ToArray<float>();
            var dy = Randn([n], 13, DType.Float32).ToArray<float>();
            var reluOutput = Randn([n], 14, DType.Float32).ToArray<float>();
            const float m = 0.1f, istd = 1.3f;
            double squares = 0, sumDy = 0, sumDyXhat = 0;
            for (int j = 0; j < n; j++)
            {
                squares += ((double)x[j] - m) * ((double)x[j] - m);
                double g = reluOutput[j] > 0 ? dy[j] : 0;
                sumDy += g;
                sumDyXhat += g * ((double)x[j] - m) * istd;
            }
            Assert.Equal(squares, CpuKernels.BlockSumSquaredDeviations<float>(x, m), squares * 1e-5);
            var (fastDy, fastDyXhat) = CpuKernels.BlockSumsForBackward<float>(x, dy, reluOutput, relu: true, m, istd);
            Assert.Equal(sumDy, fastDy, 1e-4);
            Assert.Equal(sumDyXhat, fastDyXhat, 1e-4);
        }
    }

    [Fact]
    public void BlockedSumMatchesSequentialReference()
    {
        var x = Randn([3, 20_001], 7);
        var fast = Ops.Sum(x, [1]).ToArray<double>();
        var reference = new double[3];
        CpuKernels.ReferenceSumLastAxis(x.ToArray<double>(), 3, 20_001, reference);
        for (int r = 0; r < 3; r++) Assert.Equal(reference[r], fast[r], 9);
    }

    [Fact]
    public void ReductionsOverAxes()
    {
        var x = Tensor.Arange(0, 24, 1, DType.Float64).Reshape(2, 3, 4);
        Assert.Equal([60.0, 66, 72, 78], Ops.Sum(x, [0, 1]).ToArray<double>());
        Assert.Equal([2, 1, 4], Ops.Sum(x, [1], keepDim: true).Shape);
        Assert.Equal(11.5, Ops.Mean(x).Item());
        Assert.Equal([1.5, 5.5, 9.5, 13.5, 17.5, 21.5], Ops.Mean(x, [-1]).ToArray<double>());
        Assert.Equal(50.0, Ops.Variance(x, [0, 1, 2], correction: 1).Item(), 12); // var of 0..23 = 24·25/12
        var (values, indices) = Ops.Max(Tensor.FromArray(new[] { 1.0, 5, 5, 2, -1, -3 }, [2, 3]), 1);
        Assert.Equal([5.0, 2], values.ToArray<double>());
        Assert.Equal([1, 0], indices.Data);
    }

    [Fact]
    public void MatMulMatchesNaiveLoopsIncludingTransposedViews()
    {
        var a = Randn([2, 5, 7], 8);
        var b = Randn([2, 9, 7], 9).Transpose(1, 2); // [2, 7, 9], transposed view
        var y = Ops.MatMul(a, b).ToArray<double>();
        var av = a.ToArray<double>();
        var bv = b.ToArray<double>();
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < 9; j++)
                {
                    double s = 0;
                    for (int k = 0; k < 7; k++) s += av[(n * 5 + i) * 7 + k] * bv[(n * 7 + k) * 9 + j];
                    Assert.Equal(s, y[(n * 5 + i) * 9 + j], 12);
                }
    }

    [Fact]
    public void SoftmaxMatchesDefinition()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2, 3, -1000, 0, 1000 }, [2, 3]);
        var y = Ops.Softmax(x, 1).ToArray<double>();
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Assert.Equal(Math.Exp(2) / z, y[1], 14);
        Assert.Equal(1.0, y[5], 14);
        var ly = Ops.LogSoftmax(x, 1).ToArray<double>();
        Assert.Equal(3 - Math.Log(z), ly[2], 12);
        Assert.Equal(-2000.0, ly[3], 9);
        var cols = Ops.Softmax(x, 0).ToArray<double>();
        Assert.Equal(1.0, cols[0] + cols[3], 14);
    }

    [Fact]
    public void LongContiguousRowsWalkedInPiecesMatchTheScalarDefinitions()
    {
        // A contiguous tensor is one merged row, walked in pieces of 32 K values so the threads share it: 100 003 values
        // are three whole pieces and a short one; a broadcast [1] operand must give its one value to every piece.
        const int n = 100_003;
        var a = Tensor.Normal([n], new Generator(3), dtype: DType.Float32);
        var b = Tensor.Normal([n], new Generator(4), dtype: DType.Float32);
        var quarter = Tensor.FromArray(new[] { 0.25f }, [1]);
        float[] av = a.ToArray<float>(), bv = b.ToArray<float>();
        float[] sum = Ops.Add(a, b).ToArray<float>(), scaled = Ops.Mul(a, quarter).ToArray<float>();
        float[] exp = Ops.Exp(a).ToArray<float>(), copied = a.Reshape(1, n).Permute(1, 0).Contiguous().ToArray<float>();
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(av[i] + bv[i], sum[i]);
            Assert.Equal(av[i] * 0.25f, scaled[i]);
            Assert.Equal(MathF.Exp(av[i]), exp[i]);
            Assert.Equal(av[i], copied[i]);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ChannelSoftmaxHasTheBitsOfTheSameSoftmaxOnPermutedRows(bool log)
    {
        // Along axis 1 of [N, C, H, W] the kernel walks blocks of positions (17 · 19 = 323 > one block of 256) with the
        // channel loop outside; each position must still see the row kernel's arithmetic, in the row kernel's order.
        var x = Tensor.Normal([2, 3, 17, 19], new Generator(7), dtype: DType.Float32);
        var rows = x.Permute(0, 2, 3, 1).Contiguous();
        var y = log ? Ops.LogSoftmax(x, 1) : Ops.Softmax(x, 1);
        var yRows = log ? Ops.LogSoftmax(rows, -1) : Ops.Softmax(rows, -1);
        Assert.Equal(yRows.Permute(0, 3, 1, 2).Contiguous().ToArray<float>(), y.ToArray<float>());
        var dy = Tensor.Normal(x.Shape, new Generator(8), dtype: DType.Float32);
        var dx = Ops.SoftmaxBackward(y, dy, 1, log);
        var dxRows = Ops.SoftmaxBackward(yRows, dy.Permute(0, 2, 3, 1).Contiguous(), -1, log);
        Assert.Equal(dxRows.Permute(0, 3, 1, 2).Contiguous().ToArray<float>(), dx.ToArray<float>());
    }

    [Fact]
    public void CrossEntropyForwardMatchesPyTorchSemantics()
    {
        // logits [2, 3]; targets 2 and ignored; weights w: mean = Σ w[t]·nll / Σ w[t] over kept elements.
        var logits = Tensor.FromArray(new[] { 0.5, 1.5, -1.0, 2.0, 0.0, 1.0 }, [2, 3]);
        var logp = Ops.LogSoftmax(logits, 1);
        var (loss, used) = Ops.Nll(logp, new IndexTensor([2, -100], [2]), Tensor.FromArray(new[] { 1.0, 2.0, 4.0 }, [3]), -100);
        double lse = Math.Log(Math.Exp(0.5) + Math.Exp(1.5) + Math.Exp(-1.0));
        Assert.Equal(4 * (lse + 1.0), loss.ToArray<double>()[0], 12);
        Assert.Equal(0.0, loss.ToArray<double>()[1]);
        Assert.Equal([4.0, 0.0], used.ToArray<double>());
    }

    [Fact]
    public void ConcatStackIndexSelectGather()
    {
        var a = Tensor.FromArray(new[] { 1f, 2, 3, 4 }, [2, 2]);
        var b = Tensor.FromArray(new[] { 5f, 6 }, [2, 1]);
        Assert.Equal([1f, 2, 5, 3, 4, 6], Ops.Concat([a, b], 1).ToArray<float>());
        Assert.Equal([1f, 2, 3, 4, 1, 2, 3, 4], Ops.Stack([a, a], 0).ToArray<float>());
        Assert.Equal([1f, 1, 2, 3, 3, 2, 4, 4], Ops.Stack([a, a.Transpose(0, 1)], 2).ToArray<float>());
        Assert.Equal([3f, 4, 1, 2, 3, 4], Ops.IndexSelect(a, 0, [1, 0, 1]).ToArray<float>());
        Assert.Equal([2f, 1, 4, 4], Ops.Gather(a, 1, new IndexTensor([1, 0, 1, 1], [2, 2])).ToArray<float>());
    }
}
