namespace IlgpuSeg.Engine;

public enum UnaryOp
{
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Relu,
    Sigmoid,
    Tanh,
    Silu,
    /// <summary>clamp(x, a, b).</summary>
    Clamp,
    /// <summary>x^a.</summary>
    PowScalar,
    /// <summary>x + a.</summary>
    AddScalar,
    /// <summary>x · a.</summary>
    MulScalar,
    /// <summary>sign(x): −1, 0 or 1; the derivative of abs.</summary>
    Sign,
    /// <summary>1 where x &gt; 0, else 0; the derivative of relu.</summary>
    Step,
    /// <summary>1 where a ≤ x ≤ b, else 0; the derivative of clamp.</summary>
    InRange,
    /// <summary>d silu / dx = s(1 + x(1 − s)) with s = sigmoid(x).</summary>
    SiluGrad,
}

public enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    /// <summary>a^b.</summary>
    Pow,
    Max,
    Min,
    /// <summary>ReLU(a + b): a residual sum and its activation in one pass.</summary>
    AddRelu,
    /// <summary>a · step(b): ReLU's backward, gradient a gated by the ReLU's input or output b.</summary>
    ReluGrad,
}

/// <summary>
/// Every kernel an accelerator runs. The op layer (Engine/Ops) validates shapes and allocates outputs;
/// kernels receive outputs that are fresh and contiguous unless stated, and inputs that may be any
/// strided view. One implementation per backend.
/// </summary>
public interface IKernels
{
    /// <summary>dst[i] = src[i]; both have the same shape, dst may be a strided view.</summary>
    void Copy(Tensor src, Tensor dst);

    /// <summary>dst = src converted to dst's dtype; same shape.</summary>
    void Cast(Tensor src, Tensor dst);

    void Fill(Tensor dst, double value);

    /// <summary>
    /// One SGD step in place, in torch.optim.SGD's order of roundings: d = g + p·wd (when wd ≠ 0);
    /// b = b·μ + d, or b = d on the first step (when μ ≠ 0, else b is d and not stored); p = p − b·lr.
    /// All three tensors are contiguous with the same shape.
    /// </summary>
    void SgdStep(Tensor parameter, Tensor grad, Tensor momentumBuffer, SgdStepArgs args);

    /// <summary>Fills dst from counters stream.FirstCounter + i (uniform in [a, b) or normal(a, b)).</summary>
    void Random(Tensor dst, RandomStream stream, RandomDistribution distribution, double a, double b);

    /// <summary>y = op(x; a, b); x has y's shape.</summary>
    void Unary(UnaryOp op, Tensor x, Tensor y, double a = 0, double b = 0);

    /// <summary>y = op(a, b); a and b are already broadcast (stride 0) to y's shape.</summary>
    void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y);

    /// <summary>y[r] = Σ_j x[r, j] for a rank-2 x of shape [rows, n]; fixed summation order.</summary>
    void SumLastAxis(Tensor x, Tensor y);

    /// <summary>y[r] = max_j x[r, j] and argmax[r] = the first j attaining it (NaN wins).</summary>
    void MaxLastAxis(Tensor x, Tensor y, int[] argmax);

    /// <summary>Batched y[b] = a[b] · b[b] for rank-3 a [B, M, K], b [B, K, N], y [B, M, N].</summary>
    void MatMul(Tensor a, Tensor b, Tensor y);

    /// <summary>Softmax (or log-softmax) along axis 1 of a contiguous x [outer, n, inner] (rank 2: [rows, n], inner = 1).</summary>
    void Softmax(Tensor x, Tensor y, bool log);

    /// <summary>dx from y = softmax(x) (or log-softmax) and dy, laid out as in <see cref="Softmax"/>.</summary>
    void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log);

    /// <summary>y[o, i, r] = x[o, index[i], r] for x viewed [outer, n, rest].</summary>
    void IndexSelect(Tensor x, int[] index, Tensor y);

    /// <summary>dx[o, index[i], r] += dy[o, i, r]; dx is contiguous and accumulated into.</summary>
    void IndexAdd(Tensor dy, int[] index, Tensor dx);

    /// <summary>y[o, i, r] = x[o, index[o, i, r], r] for x viewed [outer, n, rest] and y [outer, m, rest].</summary>
    void Gather(Tensor x, int[] index, Tensor y);

    /// <summary>dx[o, index[o, i, r], r] += dy[o, i, r]; dx is contiguous and accumulated into.</summary>
    void ScatterAdd(Tensor dy, int[] index, Tensor dx);

    /// <summary>
    /// Negative log-likelihood per element for logp [N, C, S] and target [N·S]: loss [N, S] and the class
    /// weight used [N, S] (0 where target == ignoreIndex). weight is [C] or null.
    /// </summary>
    void Nll(Tensor logp, int[] target, Tensor? weight, int ignoreIndex, Tensor loss, Tensor usedWeight);

    /// <summary>dlogp[n, t, s] = −w[t] · g[n, s] (zero elsewhere and where ignored); dlogp is fresh.</summary>
    void NllBackward(Tensor g, int[] target, Tensor? weight, int ignoreIndex, Tensor dlogp);

    /// <summary>y = conv2d(x, w) + bias for contiguous x [N, C, H, W], w [O, C, kh, kw], y [N, O, Ho, Wo].</summary>
    void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, Conv2dGeometry g);

    /// <summary>dx (fresh, contiguous) from dy [N, O, Ho, Wo] and w.</summary>
    void Conv2dBackwardInput(Tensor dy, Tensor w, Tensor dx, Conv2dGeometry g);

    /// <summary>dw (fresh, contiguous) from x and dy, summed over the batch.</summary>
    void Conv2dBackwardWeight(Tensor x, Tensor dy, Tensor dw, Conv2dGeometry g);

    /// <summary>Per-channel mean and biased variance of contiguous x [N, C, S].</summary>
    void BatchNormStats(Tensor x, Tensor mean, Tensor variance);

    /// <summary>
    /// y = (x − mean[c]) · invStd[c] · weight[c] + bias[c] for x [N, C, S]; weight and bias may be null (1 and 0).
    /// With <paramref name="relu"/>, y = max(that, 0) (NaN stays NaN), as a separate ReLU would give.
    /// </summary>
    void BatchNormForward(Tensor x, Tensor mean, Tensor invStd, Tensor? weight, Tensor? bias, Tensor y, bool relu);

    /// <summary>
    /// dweight[c] = Σ dy·x̂, dbias[c] = Σ dy and dx for x [N, C, S]. With batch statistics dx also flows
    /// through the mean and variance; with running statistics dx = dy · weight · invStd. With a
    /// <paramref name="reluOutput"/> (the fused forward's y) dy is first multiplied by step(y), as ReLU's backward does.
    /// </summary>
    void BatchNormBackward(Tensor x, Tensor dy, Tensor mean, Tensor invStd, Tensor? weight, bool batchStatistics, Tensor dx, Tensor dweight, Tensor dbias,
        Tensor? reluOutput);

    /// <summary>Max pooling of x [N·C, H, W] into y [N·C, Ho, Wo]; argmax[i] = h·W + w of each maximum.</summary>
    void MaxPool2d(Tensor x, Tensor y, int[] argmax, Pool2dGeometry g);

    /// <summary>dx[plane, argmax] += dy; dx is fresh and zeroed.</summary>
    void MaxPool2dBackward(Tensor dy, int[] argmax, Tensor dx);

    /// <summary>Average pooling (count_include_pad semantics) or, when adaptive, PyTorch's adaptive average pooling.</summary>
    void AvgPool2d(Tensor x, Tensor y, Pool2dGeometry g, bool adaptive);

    /// <summary>The backward of <see cref="AvgPool2d"/>; dx is fresh and zeroed.</summary>
    void AvgPool2dBackward(Tensor dy, Tensor dx, Pool2dGeometry g, bool adaptive);

    /// <summary>Bilinear resize of x [N·C, H, W] to y [N·C, Ho, Wo] with PyTorch's source-index rule.</summary>
    void ResizeBilinear(Tensor x, Tensor y, bool alignCorners);

    /// <summary>The backward of <see cref="ResizeBilinear"/>; dx is fresh and zeroed.</summary>
    void ResizeBilinearBackward(Tensor dy, Tensor dx, bool alignCorners);

    /// <summary>
    /// One DDPM reverse step (METHODS §3) on contiguous pt, epsHat, z (z may be null: no noise) and y, all of one
    /// shape: p̂0 = (pt − √(1−ᾱ_t)·ε̂)/√ᾱ_t, y = c0·p̂0 + c1·pt + σ·z.
    /// </summary>
    void DiffusionReverseStep(Tensor pt, Tensor epsHat, Tensor? z, Tensor y, DiffusionStep step);

    /// <summary>The backward of <see cref="DiffusionReverseStep"/>: dpt and dEpsHat (fresh, contiguous) from contiguous dy.</summary>
    void DiffusionReverseStepBackward(Tensor dy, Tensor dpt, Tensor dEpsHat, DiffusionStep step);

    /// <summary>
    /// Scaled dot-product attention for contiguous q [B, n, d], k [B, m, d], v [B, m, dv]: a = softmax_rows(q kᵀ · scale)
    /// into a [B, n, m] (kept for the backward) and y = a v into y [B, n, dv].
    /// </summary>
    void Attention(Tensor q, Tensor k, Tensor v, double scale, Tensor a, Tensor y);

    /// <summary>
    /// The backward of <see cref="Attention"/> from its contiguous inputs, weights a and output gradient dy [B, n, dv]:
    /// dv = aᵀ dy; ds = a ⊙ (dy vᵀ − rowsum(a ⊙ dy vᵀ)); dq = scale · ds k; dk = scale · dsᵀ q. Outputs are fresh.
    /// </summary>
    void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor a, Tensor dy, double scale, Tensor dq, Tensor dk, Tensor dv);
}

/// <summary>Square-or-not 2D convolution geometry; output size as in PyTorch.</summary>
public readonly record struct Conv2dGeometry(int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW)
{
    public static Conv2dGeometry Square(int stride, int padding, int dilation) => new(stride, stride, padding, padding, dilation, dilation);

    public int OutH(int h, int kh) => (h + 2 * PadH - DilationH * (kh - 1) - 1) / StrideH + 1;

    public int OutW(int w, int kw) => (w + 2 * PadW - DilationW * (kw - 1) - 1) / StrideW + 1;
}

/// <summary>Pooling window geometry (kernel, stride, padding), square.</summary>
public readonly record struct Pool2dGeometry(int Kernel, int Stride, int Padding)
{
    public int Out(int size) => (size + 2 * Padding - Kernel) / Stride + 1;
}

/// <summary>The scalars of one <see cref="IKernels.SgdStep"/>: learning rate, momentum μ, weight decay wd, and whether b starts as d.</summary>
public readonly record struct SgdStepArgs(double LearningRate, double Momentum, double WeightDecay, bool FirstStep);
