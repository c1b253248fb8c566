using System.Runtime.InteropServices;

namespace IlgpuSeg.Engine;

/// <summary>
/// Every kernel for OpenCL and CUDA alike: this class turns each op into launches of the shared kernel
/// sources (Engine/Kernels/*.cl); the accelerator only knows how to queue them. Host int[] arguments are
/// uploaded per call; the two ops that return host indices (MaxLastAxis, MaxPool2d) read them back, which
/// waits for the queue: they are the only kernels that synchronise.
/// </summary>
internal sealed class DeviceKernels(DeviceAccelerator device) : IKernels
{
    /// <summary>Elements of im2col columns per slab (64M floats at most), as the CPU's ColumnBudget.</summary>
    private const int ColumnBudget = 1 << 24;

    private DeviceTuning Tuning => device.Tuning;

    private void Launch1D(DType dtype, string kernel, int count, KernelArgs args)
    {
        if (count <= 0) return;
        int local = Tuning.GroupSize;
        device.Launch(dtype, kernel, args, (RoundUp(count, local), 1, 1), (local, 1, 1));
    }

    /// <summary>One work-group of the reduction width per row (or channel).</summary>
    private void LaunchRows(DType dtype, string kernel, int rows, KernelArgs args)
    {
        if (rows <= 0) return;
        device.Launch(dtype, kernel, args, (rows * Tuning.ReductionGroup, 1, 1), (Tuning.ReductionGroup, 1, 1));
    }

    private static int RoundUp(int n, int multiple) => (n + multiple - 1) / multiple * multiple;

    private static void CheckDevice(params Tensor?[] tensors)
    {
        foreach (var t in tensors)
            if (t != null && t.Buffer is not DeviceMemoryBuffer<float> and not DeviceMemoryBuffer<double>)
                throw new ArgumentException($"device kernel given a tensor on {t.Accelerator}");
    }

    // ---- copy, fill, cast, random ----

    public void Copy(Tensor src, Tensor dst)
    {
        CheckDevice(src, dst);
        Launch1D(dst.DType, "copy_strided", dst.Count,
            new KernelArgs().Int(dst.Count).Add(LayoutArg.Of(dst.Shape, src, dst)).Buffer(src.Buffer).Buffer(dst.Buffer));
    }

    public void Cast(Tensor src, Tensor dst)
    {
        if (src.DType == dst.DType)
        {
            Copy(src, dst);
            return;
        }
        CheckDevice(src, dst);
        // The casts live in the double program, the only one with both types.
        Launch1D(DType.Float64, src.DType == DType.Float32 ? "cast_float_to_double" : "cast_double_to_float", dst.Count,
            new KernelArgs().Int(dst.Count).Add(LayoutArg.Of(dst.Shape, src, dst)).Buffer(src.Buffer).Buffer(dst.Buffer));
    }

    public void Fill(Tensor dst, double value)
    {
        CheckDevice(dst);
        Launch1D(dst.DType, "fill", dst.Count, new KernelArgs().Int(dst.Count).Add(LayoutArg.Of(dst.Shape, dst)).Buffer(dst.Buffer).Real(dst.DType, value));
    }

    public void Random(Tensor dst, RandomStream stream, RandomDistribution distribution, double a, double b)
    {
        CheckDevice(dst);
        if (!dst.IsContiguous) throw new ArgumentException("random: destination must be contiguous");
        var args = new KernelArgs().Int(dst.Count).Tensor(dst).ULong(stream.Seed).ULong(stream.FirstCounter)
            .Bool(distribution == RandomDistribution.Normal);
        if (device.SupportsFloat64) args.Double(a).Double(b);
        else args.Float((float)a).Float((float)b);
        Launch1D(dst.DType, "random_fill", dst.Count, args);
    }

    // ---- elementwise ----

    public void Unary(UnaryOp op, Tensor x, Tensor y, double a = 0, double b = 0)
    {
        CheckDevice(x, y);
        Launch1D(y.DType, "unary", y.Count, new KernelArgs().Int((int)op).Int(y.Count).Add(LayoutArg.Of(y.Shape, x, y))
            .Buffer(x.Buffer).Buffer(y.Buffer).Real(y.DType, a).Real(y.DType, b));
    }

    public void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        CheckDevice(a, b, y);
        Launch1D(y.DType, "binary", y.Count, new KernelArgs().Int((int)op).Int(y.Count).Add(LayoutArg.Of(y.Shape, a, b, y))
            .Buffer(a.Buffer).Buffer(b.Buffer).Buffer(y.Buffer));
    }

    // ---- reductions and softmax (contiguous rows) ----

    public void SumLastAxis(Tensor x, Tensor y)
    {
        CheckDevice(x, y);
        LaunchRows(x.DType, "sum_rows", x.Shape[0], new KernelArgs().Int(x.Shape[1]).Tensor(x).Tensor(y));
    }

    public unsafe void MaxLastAxis(Tensor x, Tensor y, int[] argmax)
    {
        CheckDevice(x, y);
        int rows = x.Shape[0];
        if (rows == 0) return;
        ulong indices = device.Rent(rows * sizeof(int));
        try
        {
            LaunchRows(x.DType, "max_rows", rows, new KernelArgs().Int(x.Shape[1]).Tensor(x).Tensor(y).Handle(indices));
            fixed (int* p = argmax) device.Read(indices, 0, p, rows * sizeof(int));
        }
        finally
        {
            device.Return(indices, rows * sizeof(int));
        }
    }

    public void Softmax(Tensor x, Tensor y, bool log)
    {
        CheckDevice(x, y);
        LaunchRows(x.DType, "softmax_rows", x.Shape[0], new KernelArgs().Int(x.Shape[1]).Bool(log).Tensor(x).Tensor(y));
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log)
    {
        CheckDevice(y, dy, dx);
        LaunchRows(y.DType, "softmax_backward_rows", y.Shape[0], new KernelArgs().Int(y.Shape[1]).Bool(log).Tensor(y).Tensor(dy).Tensor(dx));
    }

    // ---- matrix products ----

    public void MatMul(Tensor a, Tensor b, Tensor y)
    {
        CheckDevice(a, b, y);
        int batches = y.Shape[0], m = y.Shape[1], n = y.Shape[2], k = a.Shape[2];
        Gemm(y.DType, batches, m, n, k,
            a, a.Offset, a.Strides[1], a.Strides[2], a.Strides[0],
            b, b.Offset, b.Strides[1], b.Strides[2], b.Strides[0],
            y, y.Offset, y.Strides[1], y.Strides[0], accumulate: false);
    }

    /// <summary>C[b] (+)= A[b]·B[b] with operands given as buffer, offset, row/column/batch strides.</summary>
    private void Gemm(DType dtype, int batches, int m, int n, int k,
        object a, int aOff, int aRs, int aCs, int aBs, object b, int bOff, int bRs, int bCs, int bBs,
        object c, int cOff, int cRs, int cBs, bool accumulate)
    {
        if (batches == 0 || m == 0 || n == 0) return;
        var args = new KernelArgs().Int(m).Int(n).Int(k);
        Operand(args, a).Int(aOff).Int(aRs).Int(aCs).Int(aBs);
        Operand(args, b).Int(bOff).Int(bRs).Int(bCs).Int(bBs);
        Operand(args, c).Int(cOff).Int(cRs).Int(cBs).Bool(accumulate);
        var t = Tuning;
        if (t.GemmLocal)
        {
            int bm = t.GemmGroup * t.GemmTileM, bn = t.GemmGroup * t.GemmTileN;
            device.Launch(dtype, "gemm", args, ((n + bn - 1) / bn * t.GemmGroup, (m + bm - 1) / bm * t.GemmGroup, batches), (t.GemmGroup, t.GemmGroup, 1));
        }
        else
        {
            int gx = RoundUp((n + t.GemmTileN - 1) / t.GemmTileN, t.GemmGroup), gy = (m + t.GemmTileM - 1) / t.GemmTileM;
            device.Launch(dtype, "gemm", args, (gx, gy, batches), (t.GemmGroup, 1, 1));
        }
    }

    /// <summary>A GEMM operand is a tensor's buffer or a raw workspace handle.</summary>
    private static KernelArgs Operand(KernelArgs args, object operand) => operand switch
    {
        Tensor t => args.Buffer(t.Buffer),
        ulong handle => args.Handle(handle),
        _ => throw new ArgumentException("gemm operand"),
    };

    // ---- convolution: im2col slabs + GEMM, as the CPU backend ----

    /// <summary>Mirror of <c>conv_t</c> in conv.cl.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct ConvArg(int N, int C, int H, int W, int Kh, int Kw, int Sh, int Sw, int Ph, int Pw, int Dh, int Dw, int Ho, int Wo)
    {
        public static ConvArg Of(int[] x, int[] w, Conv2dGeometry g) =>
            new(x[0], x[1], x[2], x[3], w[2], w[3], g.StrideH, g.StrideW, g.PadH, g.PadW, g.DilationH, g.DilationW, g.OutH(x[2], w[2]), g.OutW(x[3], w[3]));

        public int Kk => Kh * Kw;
        public int P => Ho * Wo;
        public int Plane => H * W;
        public int Ckk => C * Kk;
        public bool Pointwise => Kh == 1 && Kw == 1 && Sh == 1 && Sw == 1 && Ph == 0 && Pw == 0;

        /// <summary>Input channels per slab so that the columns of all images stay within the budget.</summary>
        public int ChannelSlab => (int)Math.Clamp(ColumnBudget / Math.Max(1L, (long)N * Kk * P), 1, C);
    }

    private ulong RentColumns(DType dtype, ConvArg s, out long bytes)
    {
        bytes = (long)s.N * s.ChannelSlab * s.Kk * s.P * dtype.SizeInBytes();
        return device.Rent(bytes);
    }

    private void Im2Col(DType dtype, ConvArg s, int c0, int c1, Tensor x, ulong col) =>
        Launch1D(dtype, "im2col", s.N * (c1 - c0) * s.Kk * s.P, new KernelArgs().Add(s).Int(c0).Int(c1).Tensor(x).Handle(col));

    public void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, Conv2dGeometry g)
    {
        CheckDevice(x, w, bias, y);
        var s = ConvArg.Of(x.Shape, w.Shape, g);
        var dt = y.DType;
        if (s.N == 0 || s.P == 0) return;
        if (s.Pointwise)
            Gemm(dt, s.N, w.Shape[0], s.P, s.C, w, w.Offset, s.Ckk, 1, 0, x, x.Offset, s.Plane, 1, s.C * s.Plane, y, y.Offset, s.P, w.Shape[0] * s.P, false);
        else
        {
            ulong col = RentColumns(dt, s, out long bytes);
            for (int c0 = 0; c0 < s.C; c0 += s.ChannelSlab)
            {
                int c1 = Math.Min(s.C, c0 + s.ChannelSlab), rows = (c1 - c0) * s.Kk;
                Im2Col(dt, s, c0, c1, x, col);
                Gemm(dt, s.N, w.Shape[0], s.P, rows, w, w.Offset + c0 * s.Kk, s.Ckk, 1, 0, col, 0, s.P, 1, rows * s.P,
                    y, y.Offset, s.P, w.Shape[0] * s.P, c0 > 0);
            }
            device.Return(col, bytes);
        }
        if (bias != null)
            Launch1D(dt, "add_channel_bias", y.Count, new KernelArgs().Int(y.Count).Int(w.Shape[0]).Int(s.P).Tensor(y).Tensor(bias).Int(bias.Strides[0]));
    }

    public void Conv2dBackwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dGeometry g)
    {
        CheckDevice(dy, w, dx);
        var s = ConvArg.Of(dx.Shape, w.Shape, g);
        var dt = dx.DType;
        int o = w.Shape[0];
        if (s.N == 0 || s.Plane == 0) return;
        if (s.Pointwise)
        {
            // dx[n] = Wᵀ·dy[n]: A[c, o] = w[o·C + c].
            Gemm(dt, s.N, s.C, s.P, o, w, w.Offset, 1, s.Ckk, 0, dy, dy.Offset, s.P, 1, o * s.P, dx, dx.Offset, s.Plane, s.C * s.Plane, false);
            return;
        }
        ulong col = RentColumns(dt, s, out long bytes);
        for (int c0 = 0; c0 < s.C; c0 += s.ChannelSlab)
        {
            int c1 = Math.Min(s.C, c0 + s.ChannelSlab), rows = (c1 - c0) * s.Kk;
            Gemm(dt, s.N, rows, s.P, o, w, w.Offset + c0 * s.Kk, 1, s.Ckk, 0, dy, dy.Offset, s.P, 1, o * s.P, col, 0, s.P, rows * s.P, false);
            Launch1D(dt, "col2im", s.N * (c1 - c0) * s.Plane, new KernelArgs().Add(s).Int(c0).Int(c1).Handle(col).Tensor(dx));
        }
        device.Return(col, bytes);
    }

    public void Conv2dBackwardWeight(Tensor x, Tensor dy, Tensor dw, Conv2dGeometry g)
    {
        CheckDevice(x, dy, dw);
        var s = ConvArg.Of(x.Shape, dw.Shape, g);
        var dt = dw.DType;
        int o = dw.Shape[0];
        // Images are summed one GEMM at a time, in order (a batched GEMM cannot sum over its batch).
        if (s.Pointwise)
        {
            for (int n = 0; n < s.N; n++)
                Gemm(dt, 1, o, s.C, s.P, dy, dy.Offset + n * o * s.P, s.P, 1, 0, x, x.Offset + n * s.C * s.Plane, 1, s.Plane, 0,
                    dw, dw.Offset, s.Ckk, 0, n > 0);
            return;
        }
        ulong col = RentColumns(dt, s, out long bytes);
        for (int c0 = 0; c0 < s.C; c0 += s.ChannelSlab)
        {
            int c1 = Math.Min(s.C, c0 + s.ChannelSlab), rows = (c1 - c0) * s.Kk;
            Im2Col(dt, s, c0, c1, x, col);
            for (int n = 0; n < s.N; n++)
                Gemm(dt, 1, o, rows, s.P, dy, dy.Offset + n * o * s.P, s.P, 1, 0, col, n * rows * s.P, 1, s.P, 0,
                    dw, dw.Offset + c0 * s.Kk, s.Ckk, 0, n > 0);
        }
        device.Return(col, bytes);
        if (s.N == 0 || s.P == 0) Fill(dw, 0);
    }

    // ---- batch norm over [N, C, S] ----

    private static KernelArgs Optional(KernelArgs args, Tensor? t, Tensor fallback) =>
        t == null ? args.Bool(false).Buffer(fallback.Buffer).Int(0).Int(0) : args.Bool(true).Tensor(t).Int(t.Strides[0]);

    public void BatchNormStats(Tensor x, Tensor mean, Tensor variance)
    {
        CheckDevice(x, mean, variance);
        LaunchRows(x.DType, "bn_stats", x.Shape[1], new KernelArgs().Int(x.Shape[0]).Int(x.Shape[1]).Int(x.Shape[2]).Tensor(x).Tensor(mean).Tensor(variance));
    }

    public void BatchNormForward(Tensor x, Tensor mean, Tensor invStd, Tensor? weight, Tensor? bias, Tensor y)
    {
        CheckDevice(x, mean, invStd, weight, bias, y);
        var args = new KernelArgs().Int(x.Count).Int(x.Shape[1]).Int(x.Shape[2]).Tensor(x).Tensor(mean).Tensor(invStd);
        Optional(args, weight, x);
        Optional(args, bias, x);
        Launch1D(x.DType, "bn_forward", x.Count, args.Tensor(y));
    }

    public void BatchNormBackward(Tensor x, Tensor dy, Tensor mean, Tensor invStd, Tensor? weight, bool batchStatistics, Tensor dx, Tensor dweight, Tensor dbias)
    {
        CheckDevice(x, dy, mean, invStd, weight, dx, dweight, dbias);
        int n = x.Shape[0], c = x.Shape[1], s = x.Shape[2];
        LaunchRows(x.DType, "bn_backward_sums", c, new KernelArgs().Int(n).Int(c).Int(s).Tensor(x).Tensor(dy).Tensor(mean).Tensor(invStd).Tensor(dweight).Tensor(dbias));
        var args = new KernelArgs().Int(x.Count).Int(c).Int(s).Bool(batchStatistics).Tensor(x).Tensor(dy).Tensor(mean).Tensor(invStd);
        Optional(args, weight, x);
        Launch1D(x.DType, "bn_backward_dx", x.Count, args.Tensor(dweight).Tensor(dbias).Tensor(dx));
    }

    // ---- the fused DPL reverse step (contiguous [n, D]) ----

    public void DiffusionReverseStep(Tensor pt, Tensor epsHat, Tensor? z, Tensor y, DiffusionStep step)
    {
        CheckDevice(pt, epsHat, z, y);
        var args = new KernelArgs().Int(y.Count).Tensor(pt).Tensor(epsHat);
        args = z == null ? args.Bool(false).Buffer(pt.Buffer).Int(0) : args.Bool(true).Tensor(z);
        Launch1D(y.DType, "diffusion_step", y.Count, args.Tensor(y).Real(y.DType, step.SqrtOneMinusAlphaBar).Real(y.DType, 1 / step.SqrtAlphaBar)
            .Real(y.DType, step.C0).Real(y.DType, step.C1).Real(y.DType, step.Sigma));
    }

    public void DiffusionReverseStepBackward(Tensor dy, Tensor dpt, Tensor dEpsHat, DiffusionStep step)
    {
        CheckDevice(dy, dpt, dEpsHat);
        Launch1D(dy.DType, "diffusion_step_backward", dy.Count, new KernelArgs().Int(dy.Count).Tensor(dy).Tensor(dpt).Tensor(dEpsHat)
            .Real(dy.DType, step.DPt).Real(dy.DType, step.DEpsHat));
    }

    // ---- attention, composed from the GEMM, softmax and element-wise kernels ----

    public void Attention(Tensor q, Tensor k, Tensor v, double scale, Tensor a, Tensor y)
    {
        CheckDevice(q, k, v, a, y);
        int b = q.Shape[0], n = q.Shape[1], m = k.Shape[1];
        var scores = q.NewEmpty(b, n, m);
        MatMul(q, k.Transpose(1, 2), scores);
        var scaled = q.NewEmpty(b, n, m);
        Unary(UnaryOp.MulScalar, scores, scaled, scale);
        Softmax(scaled.Reshape(b * n, m), a.Reshape(b * n, m), log: false);
        MatMul(a, v, y);
    }

    // dv = aᵀ dy; ds = softmax backward of (dy vᵀ) through a; dq = scale · ds k; dk = scale · dsᵀ q.
    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor a, Tensor dy, double scale, Tensor dq, Tensor dk, Tensor dv)
    {
        CheckDevice(q, k, v, a, dy, dq, dk, dv);
        int b = q.Shape[0], n = q.Shape[1], m = k.Shape[1];
        MatMul(a.Transpose(1, 2), dy, dv);
        var da = q.NewEmpty(b, n, m);
        MatMul(dy, v.Transpose(1, 2), da);
        var ds = q.NewEmpty(b, n, m);
        SoftmaxBackward(a.Reshape(b * n, m), da.Reshape(b * n, m), ds.Reshape(b * n, m), log: false);
        var dqRaw = dq.NewEmpty(dq.Shape);
        MatMul(ds, k, dqRaw);
        Unary(UnaryOp.MulScalar, dqRaw, dq, scale);
        var dkRaw = dk.NewEmpty(dk.Shape);
        MatMul(ds.Transpose(1, 2), q, dkRaw);
        Unary(UnaryOp.MulScalar, dkRaw, dk, scale);
    }

    // ---- pooling over planes [P, H, W] ----

    /// <summary>Mirror of <c>pool_t</c> in pooling.cl.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct PoolArg(int Planes, int H, int W, int Ho, int Wo, int Size, int Stride, int Padding, int Adaptive)
    {
        public static PoolArg Of(Tensor big, Tensor small, Pool2dGeometry g, bool adaptive) =>
            new(big.Shape[0], big.Shape[1], big.Shape[2], small.Shape[1], small.Shape[2], g.Kernel, g.Stride, g.Padding, adaptive ? 1 : 0);
    }

    public unsafe void MaxPool2d(Tensor x, Tensor y, int[] argmax, Pool2dGeometry g)
    {
        CheckDevice(x, y);
        int count = y.Count;
        if (count == 0) return;
        ulong indices = device.Rent(count * sizeof(int));
        try
        {
            Launch1D(x.DType, "maxpool", count, new KernelArgs().Add(PoolArg.Of(x, y, g, false)).Tensor(x).Tensor(y).Handle(indices));
            fixed (int* p = argmax) device.Read(indices, 0, p, count * sizeof(int));
        }
        finally
        {
            device.Return(indices, count * sizeof(int));
        }
    }

    public void MaxPool2dBackward(Tensor dy, int[] argmax, Tensor dx)
    {
        CheckDevice(dy, dx);
        int planes = dy.Shape[0];
        if (argmax.Length == 0) return;
        ulong indices = device.UploadInts(argmax);
        Launch1D(dy.DType, "maxpool_backward", planes, new KernelArgs().Int(planes).Int(dy.Shape[1] * dy.Shape[2]).Int(dx.Shape[1] * dx.Shape[2])
            .Tensor(dy).Handle(indices).Tensor(dx));
        device.ReleaseUpload(indices, argmax.Length);
    }

    public void AvgPool2d(Tensor x, Tensor y, Pool2dGeometry g, bool adaptive)
    {
        CheckDevice(x, y);
        Launch1D(x.DType, "avgpool", y.Count, new KernelArgs().Add(PoolArg.Of(x, y, g, adaptive)).Tensor(x).Tensor(y));
    }

    public void AvgPool2dBackward(Tensor dy, Tensor dx, Pool2dGeometry g, bool adaptive)
    {
        CheckDevice(dy, dx);
        Launch1D(dy.DType, "avgpool_backward", dx.Count, new KernelArgs().Add(PoolArg.Of(dx, dy, g, adaptive)).Tensor(dy).Tensor(dx));
    }

    // ---- bilinear resize ----

    /// <summary>The source-index scale, computed in the element type as the CPU backend does.</summary>
    private static double Scale(DType dtype, int inSize, int outSize, bool alignCorners)
    {
        if (dtype == DType.Float32)
            return alignCorners ? (outSize > 1 ? (float)(inSize - 1) / (outSize - 1) : 0f) : (float)inSize / outSize;
        return alignCorners ? (outSize > 1 ? (double)(inSize - 1) / (outSize - 1) : 0.0) : (double)inSize / outSize;
    }

    private KernelArgs ResizeArgs(Tensor big, Tensor small, bool alignCorners)
    {
        int h = big.Shape[1], w = big.Shape[2], ho = small.Shape[1], wo = small.Shape[2];
        return new KernelArgs().Int(big.Shape[0]).Int(h).Int(w).Int(ho).Int(wo)
            .Real(big.DType, Scale(big.DType, h, ho, alignCorners)).Real(big.DType, Scale(big.DType, w, wo, alignCorners)).Bool(alignCorners);
    }

    public void ResizeBilinear(Tensor x, Tensor y, bool alignCorners)
    {
        CheckDevice(x, y);
        Launch1D(x.DType, "resize_bilinear", y.Count, ResizeArgs(x, y, alignCorners).Tensor(x).Tensor(y));
    }

    public void ResizeBilinearBackward(Tensor dy, Tensor dx, bool alignCorners)
    {
        CheckDevice(dy, dx);
        Launch1D(dy.DType, "resize_bilinear_backward", dx.Count, ResizeArgs(dx, dy, alignCorners).Tensor(dy).Tensor(dx));
    }

    // ---- loss and index ops (host indices uploaded per call) ----

    public void Nll(Tensor logp, int[] target, Tensor? weight, int ignoreIndex, Tensor loss, Tensor usedWeight)
    {
        CheckDevice(logp, weight, loss, usedWeight);
        if (target.Length == 0) return;
        ulong t = device.UploadInts(target);
        var args = new KernelArgs().Int(target.Length).Int(logp.Shape[1]).Int(logp.Shape[2]).Int(ignoreIndex).Tensor(logp).Handle(t);
        Optional(args, weight, logp);
        Launch1D(logp.DType, "nll", target.Length, args.Tensor(loss).Tensor(usedWeight));
        device.ReleaseUpload(t, target.Length);
    }

    public void NllBackward(Tensor g, int[] target, Tensor? weight, int ignoreIndex, Tensor dlogp)
    {
        CheckDevice(g, weight, dlogp);
        if (target.Length == 0) return;
        ulong t = device.UploadInts(target);
        var args = new KernelArgs().Int(target.Length).Int(dlogp.Shape[1]).Int(dlogp.Shape[2]).Int(ignoreIndex).Tensor(g).Handle(t);
        Optional(args, weight, g);
        Launch1D(g.DType, "nll_backward", target.Length, args.Tensor(dlogp));
        device.ReleaseUpload(t, target.Length);
    }

    private void IndexLaunch(string kernel, Tensor src, int[] index, Tensor dst, int outer, int n, int m, int rest, int count)
    {
        CheckDevice(src, dst);
        if (index.Length == 0 || count == 0) return;
        ulong i = device.UploadInts(index);
        Launch1D(dst.DType, kernel, count, new KernelArgs().Int(outer).Int(n).Int(m).Int(rest).Tensor(src).Handle(i).Tensor(dst));
        device.ReleaseUpload(i, index.Length);
    }

    public void IndexSelect(Tensor x, int[] index, Tensor y) =>
        IndexLaunch("index_select", x, index, y, x.Shape[0], x.Shape[1], index.Length, x.Shape[2], y.Count);

    public void IndexAdd(Tensor dy, int[] index, Tensor dx) =>
        IndexLaunch("index_add", dy, index, dx, dx.Shape[0], dx.Shape[1], index.Length, dx.Shape[2], dx.Shape[0] * dx.Shape[2]);

    public void Gather(Tensor x, int[] index, Tensor y) =>
        IndexLaunch("gather", x, index, y, y.Shape[0], x.Shape[1], y.Shape[1], y.Shape[2], y.Count);

    public void ScatterAdd(Tensor dy, int[] index, Tensor dx) =>
        IndexLaunch("scatter_add", dy, index, dx, dy.Shape[0], dx.Shape[1], dy.Shape[1], dy.Shape[2], dy.Shape[0] * dy.Shape[2]);
}
