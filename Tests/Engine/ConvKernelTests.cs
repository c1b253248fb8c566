using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Engine;

/// <summary>
/// The im2col + GEMM, tap and Winograd convolutions against the direct scalar sum, including shapes large enough to need
/// several im2col slabs or Winograd bands.
/// </summary>
public class ConvKernelTests
{
    private static Tensor Randn(int[] shape, ulong seed, DType dtype) => Tensor.Normal(shape, new Generator(seed), dtype: dtype);

    [Theory]
    [InlineData(1, 64, 64, 64, 8, 3, 1, 1, 1)] // 64 channels × 9 × 4096 columns exceed the workspace: two slabs
    [InlineData(2, 5, 9, 11, 6, 3, 2, 2, 2)]
    [InlineData(1, 7, 8, 8, 3, 1, 1, 0, 1)]   // pointwise path
    [InlineData(2, 6, 9, 9, 4, 3, 1, 6, 6)]   // tap path: bands with 2 and 3 live kernel rows
    [InlineData(2, 5, 8, 8, 3, 3, 1, 9, 9)]   // tap path: only the centre tap reads the image
    [InlineData(1, 4, 11, 7, 3, 3, 2, 5, 4)]  // tap path, stride 2, non-square
    [InlineData(2, 3, 70, 69, 5, 7, 2, 3, 1)] // stem-like 7×7 stride 2: im2col's vector stride-2 copy (35 columns: 16 + 16 + tail)
    [InlineData(1, 3, 1, 1, 2, 3, 4, 3, 1)]   // no tap ever reads the image: the output is the bias
    [InlineData(2, 128, 9, 11, 130, 3, 1, 1, 1)] // Winograd: odd sizes, partial tiles at the bottom and right
    [InlineData(1, 128, 13, 10, 136, 3, 1, 2, 2)] // Winograd, dilation 2: tile rows r, r + 2
    [InlineData(1, 128, 32, 32, 128, 3, 1, 4, 4)] // Winograd, dilation 4 (ResNet layer4 at OS8)
    [InlineData(1, 128, 10, 7, 128, 3, 1, 0, 1)]  // Winograd without padding: 8 × 5 output
    [InlineData(1, 128, 6, 9, 128, 3, 1, 2, 1)]   // Winograd, padding 2 > dilation: 8 × 11 output
    [InlineData(1, 1000, 40, 40, 128, 3, 1, 1, 1)] // Winograd in two bands of tile rows
    [InlineData(1, 128, 36, 36, 128, 3, 1, 2, 2)] // Winograd, dilation 2: a block of 16 vector tile columns and 2 scalar ones
    [InlineData(2, 16, 9, 11, 16, 3, 1, 1, 1)]     // Winograd from 16 channels (the small encoder's layer1)
    [InlineData(1, 64, 16, 13, 40, 3, 1, 2, 2)]    // Winograd narrowing 64 → 40 on 13 columns: input tile rows of 8 in pairs
    public void MatchesDirectConvolution(int n, int c, int h, int w, int o, int k, int stride, int padding, int dilation)
    {
        var g = Conv2dGeometry.Square(stride, padding, dilation);
        var x = Randn([n, c, h, w], 1, DType.Float32);
        var weight = Randn([o, c, k, k], 2, DType.Float32);
        var bias = Randn([o], 3, DType.Float32);
        var y = Ops.Conv2d(x, weight, bias, g).ToDoubleArray();
        var reference = new double[y.Length];
        CpuKernels.ReferenceConv2d(x.ToDoubleArray(), x.Shape, weight.ToDoubleArray(), weight.Shape, bias.ToDoubleArray(), g, reference);
        double scale = reference.Max(Math.Abs);
        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - reference[i]) <= 1e-5 * scale, $"element {i}: {y[i]} vs {reference[i]}");
    }

    /// <summary>
    /// Without bias, conv is linear in x and in w, so ⟨conv(x, w), dy⟩ = ⟨x, dX(dy)⟩ = ⟨w, dW(x, dy)⟩. This checks
    /// both backward kernels on shapes too large for a finite-difference check, across several slabs.
    /// </summary>
    [Theory]
    [InlineData(2, 64, 64, 64, 4, 3, 1, 1, 1)]
    [InlineData(2, 40, 33, 35, 5, 3, 2, 2, 2)]
    [InlineData(2, 16, 20, 20, 8, 1, 1, 0, 1)]
    [InlineData(2, 6, 9, 9, 4, 3, 1, 6, 6)]
    [InlineData(1, 4, 11, 7, 3, 3, 2, 5, 4)]
    [InlineData(2, 3, 70, 69, 5, 7, 2, 3, 1)]      // stem-like 7×7 stride 2 (vector stride-2 im2col in backward-weight)
    [InlineData(1, 2100, 32, 32, 2, 3, 1, 24, 24)] // tap path with two channel chunks (ASPP-like dilation 24)
    [InlineData(1, 3, 1, 1, 2, 3, 4, 3, 1)]        // no live tap: zero gradients
    [InlineData(2, 128, 9, 11, 130, 3, 1, 1, 1)]   // Winograd, partial tiles
    [InlineData(2, 128, 13, 10, 136, 3, 1, 2, 2)]  // Winograd, dilation 2
    [InlineData(1, 128, 10, 7, 128, 3, 1, 0, 1)]   // Winograd without padding (backward-input pads by 2)
    [InlineData(1, 128, 6, 9, 128, 3, 1, 2, 1)]    // Winograd, padding 2 (backward-input unpadded)
    [InlineData(2, 1000, 40, 40, 128, 3, 1, 1, 1)] // Winograd bands across both images
    [InlineData(2, 16, 9, 11, 16, 3, 1, 1, 1)]     // Winograd from 16 channels
    [InlineData(2, 64, 16, 16, 48, 3, 1, 4, 4)]    // Winograd narrowing 64 → 48, dilation 4
    public void BackwardKernelsAreAdjoint(int n, int c, int h, int w, int o, int k, int stride, int padding, int dilation)
    {
        var g = Conv2dGeometry.Square(stride, padding, dilation);
        var x = Randn([n, c, h, w], 4, DType.Float64);
        var weight = Randn([o, c, k, k], 5, DType.Float64);
        var y = Ops.Conv2d(x, weight, null, g);
        var dy = Randn(y.Shape, 6, DType.Float64);
        double lhs = Ops.Sum(Ops.Mul(y, dy)).Item();
        double viaInput = Ops.Sum(Ops.Mul(x, Ops.Conv2dBackwardInput(dy, weight, x.Shape, g))).Item();
        double viaWeight = Ops.Sum(Ops.Mul(weight, Ops.Conv2dBackwardWeight(x, dy, weight.Shape, g))).Item();
        Assert.Equal(lhs, viaInput, 1e-9 * Math.Abs(lhs) + 1e-9);
        Assert.Equal(lhs, viaWeight, 1e-9 * Math.Abs(lhs) + 1e-9);
    }

    [Theory]
    [InlineData(12, true)]
    [InlineData(24, true)]
    [InlineData(36, true)]
    [InlineData(4, false)]
    [InlineData(2, false)]
    public void TapPathIsTakenWhereManyTapsReadOnlyPadding(int dilation, bool tapPath)
    {
        // ResNet-101 OS8 at 256² gives 32 × 32 maps; ASPP pads each 3 × 3 conv by its dilation.
        var shape = CpuKernels.ConvShape.Of([2, 2048, 32, 32], [256, 2048, 3, 3], Conv2dGeometry.Square(1, dilation, dilation));
        var taps = CpuKernels.LiveTaps(shape);
        Assert.Equal(tapPath, taps != null);
        // At dilation 36 > 32 every tap but the centre reads padding only: one in-place GEMM over the whole map.
        if (dilation == 36) Assert.Equal([new CpuKernels.ConvTap(1, 1, 0, 32, 0, 32, true, 0)], taps!);
        // At dilation 24 the corner taps read an 8 × 8 corner of the image.
        if (dilation == 24) Assert.Equal(new CpuKernels.ConvTap(0, 0, 24, 32, 24, 32, false, 0), taps![0]);
    }

    [Theory]
    [InlineData(256, 256, 32, 1, 1, 1, true)] // ResNet layer3 conv2
    [InlineData(256, 256, 32, 1, 2, 2, true)] // layer3 at OS8
    [InlineData(512, 512, 32, 1, 4, 4, true)] // layer4 at OS8
    [InlineData(512, 512, 16, 1, 4, 4, true)]  // layer4 at OS8 on 128² input: Winograd before the tap path
    [InlineData(2048, 256, 32, 1, 12, 12, false)] // ASPP dilation 12: tiles would cover 2.25× the map; tap path
    [InlineData(128, 128, 64, 2, 1, 1, false)] // strided conv2: im2col
    [InlineData(64, 64, 64, 1, 1, 1, true)]   // layer1
    [InlineData(16, 16, 32, 1, 1, 1, true)]   // the small encoder's layer1
    [InlineData(8, 8, 32, 1, 1, 1, false)]    // too few channels for the transforms to pay
    [InlineData(16, 256, 16, 1, 1, 1, false)] // widening from few channels
    [InlineData(128, 512, 16, 1, 1, 1, true)] // widening from enough channels
    [InlineData(256, 256, 32, 1, 3, 1, false)] // padding past twice the dilation
    public void WinogradTakesThreeByThreeStrideOneConvolutions(int c, int o, int size, int stride, int padding, int dilation, bool winograd)
    {
        var shape = CpuKernels.ConvShape.Of([2, c, size, size], [o, c, 3, 3], Conv2dGeometry.Square(stride, padding, dilation));
        Assert.Equal(winograd, CpuKernels.UsesWinograd(shape));
    }

    /// <summary>
    /// Winograd's input transform runs whole blocks of 16 tile columns as vectors and the rest one tile at a time. Eight
    /// zero columns prepended to the input shift every tile by 4 tile columns (8 is a multiple of 2D), so tiles 12–15 of
    /// a 16-tile row, vector tiles, become scalar tiles 16–19; the shifted output must hold the very same bits.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void WinogradVectorTilesHaveTheBitsOfScalarTiles(int dilation)
    {
        const int channels = 128, h = 6, w = 32, shift = 8;
        var g = Conv2dGeometry.Square(1, dilation, dilation);
        var x = Randn([1, channels, h, w], 11, DType.Float32);
        var weight = Randn([channels, channels, 3, 3], 12, DType.Float32);
        Assert.True(CpuKernels.UsesWinograd(CpuKernels.ConvShape.Of(x.Shape, weight.Shape, g)));
        var y = Ops.Conv2d(x, weight, null, g).ToArray<float>();
        var y2 = Ops.Conv2d(PrependZeroColumns(x, shift), weight, null, g).ToArray<float>();
        for (int row = 0; row < channels * h; row++)
            Assert.Equal(y.AsSpan(row * w, w).ToArray(), y2.AsSpan(row * (w + shift) + shift, w).ToArray());
    }

    /// <summary>
    /// On maps 16 columns wide (8 tiles a row), Winograd's input and output transforms run two tile rows of one image as
    /// one vector block; 8 zero columns prepended make the rows 12 tiles long, all scalar, with every tile shifted by 4
    /// tile columns. y and dx (backward-input runs the same routine) must hold the very same bits. 11 rows: the last tile
    /// rows pair with one past the output (dilation 4), or end without a second row below them; 2 images of 9 rows at
    /// dilation 1 have 5 tile rows each, so each image's last row goes alone (a pair must not take the next image's first).
    /// </summary>
    [Theory]
    [InlineData(1, 1, 11)]
    [InlineData(2, 1, 11)]
    [InlineData(4, 1, 11)]
    [InlineData(1, 2, 9)]
    public void WinogradTileRowPairsHaveTheBitsOfScalarTiles(int dilation, int n, int h)
    {
        const int channels = 128, w = 16, shift = 8;
        var g = Conv2dGeometry.Square(1, dilation, dilation);
        void AssertShiftedBits(float[] a, float[] shifted)
        {
            for (int row = 0; row < n * channels * h; row++)
                Assert.Equal(a.AsSpan(row * w, w).ToArray(), shifted.AsSpan(row * (w + shift) + shift, w).ToArray());
        }
        int[] wide = [n, channels, h, w + shift];
        var x = Randn([n, channels, h, w], 15, DType.Float32);
        var dy = Randn([n, channels, h, w], 16, DType.Float32);
        var weight = Randn([channels, channels, 3, 3], 17, DType.Float32);
        Assert.True(CpuKernels.UsesWinograd(CpuKernels.ConvShape.Of(x.Shape, weight.Shape, g)));
        AssertShiftedBits(Ops.Conv2d(x, weight, null, g).ToArray<float>(),
            Ops.Conv2d(PrependZeroColumns(x, shift), weight, null, g).ToArray<float>());
        AssertShiftedBits(Ops.Conv2dBackwardInput(dy, weight, x.Shape, g).ToArray<float>(),
            Ops.Conv2dBackwardInput(PrependZeroColumns(dy, shift), weight, wide, g).ToArray<float>());
    }

    /// <summary>
    /// Winograd's backward-weight runs the gradient tiles as vector blocks (16 tiles of a row whose 32 columns lie inside
    /// the map, or two rows of 8) and the rest one tile at a time. 8 zero columns prepended to x and dy shift every tile
    /// by 4 tile columns and change which tiles are vectors (16-column maps: none; 32-column maps: tiles 12–15 become
    /// scalar tiles 16–19); the added tiles' gradients are exact zeros, and with all tiles in one GEMM depth block the
    /// weight gradient's sums see the same nonzero terms in the same order: the very same bits.
    /// </summary>
    [Theory]
    [InlineData(1, 1, 11, 16)]
    [InlineData(2, 1, 11, 16)]
    [InlineData(4, 1, 11, 16)]
    [InlineData(1, 2, 9, 16)]
    [InlineData(1, 1, 6, 32)]
    [InlineData(2, 1, 6, 32)]
    public void WinogradVectorGradTilesHaveTheBitsOfScalarTiles(int dilation, int n, int h, int w)
    {
        const int channels = 128, shift = 8;
        var g = Conv2dGeometry.Square(1, dilation, dilation);
        var x = Randn([n, channels, h, w], 18, DType.Float32);
        var dy = Randn([n, channels, h, w], 19, DType.Float32);
        int[] wShape = [channels, channels, 3, 3];
        Assert.True(CpuKernels.UsesWinograd(CpuKernels.ConvShape.Of(x.Shape, wShape, g)));
        Assert.Equal(Ops.Conv2dBackwardWeight(x, dy, wShape, g).ToArray<float>(),
            Ops.Conv2dBackwardWeight(PrependZeroColumns(x, shift), PrependZeroColumns(dy, shift), wShape, g).ToArray<float>());
    }

    /// <summary>A float tensor [N, C, H, W] with <paramref name="shift"/> zero columns in front of every row.</summary>
    private static Tensor PrependZeroColumns(Tensor t, int shift)
    {
        int rows = t.Shape[0] * t.Shape[1] * t.Shape[2], w = t.Shape[3];
        var v = t.ToArray<float>();
        var shifted = new float[rows * (w + shift)];
        for (int row = 0; row < rows; row++) Array.Copy(v, row * w, shifted, row * (w + shift) + shift, w);
        return Tensor.FromArray(shifted, [t.Shape[0], t.Shape[1], t.Shape[2], w + shift]);
    }

    /// <summary>
    /// Winograd's weight transform runs whole vectors of kernels of neighbouring input channels and the rest one at a
    /// time. With one channel of x (or dy) nonzero, every other product is an exact zero, so swapping the weights' input
    /// channels 129 (scalar tail of 130) and 0 (first vector) must give the very same bits, in y, and in dx with its
    /// channels 0 and 129 swapped.
    /// </summary>
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void WinogradVectorWeightsHaveTheBitsOfScalarWeights(DType dtype)
    {
        const int channels = 130, size = 6, tail = 129;
        var g = Conv2dGeometry.Square(1, 1, 1);
        int[] xShape = [1, channels, size, size];
        var w = Randn([channels, channels, 3, 3], 13, DType.Float64).ToArray<double>();
        var plane = Randn([size, size], 14, DType.Float64).ToArray<double>();
        var weight = Tensor.FromArray(w, [channels, channels, 3, 3]).To(dtype);
        Assert.True(CpuKernels.UsesWinograd(CpuKernels.ConvShape.Of(xShape, weight.Shape, g)));
        // One channel of x (or dy) holds the plane; the weights with input channels 0 and 129 swapped.
        Tensor OneChannel(int c)
        {
            var t = new double[channels * size * size];
            plane.CopyTo(t, c * size * size);
            return Tensor.FromArray(t, xShape).To(dtype);
        }
        Tensor Swapped()
        {
            var swapped = (double[])w.Clone();
            for (int o = 0; o < channels; o++)
            {
                Array.Copy(w, (o * channels + tail) * 9, swapped, o * channels * 9, 9);
                Array.Copy(w, o * channels * 9, swapped, (o * channels + tail) * 9, 9);
            }
            return Tensor.FromArray(swapped, [channels, channels, 3, 3]).To(dtype);
        }
        Assert.Equal(Ops.Conv2d(OneChannel(tail), weight, null, g).ToDoubleArray(), Ops.Conv2d(OneChannel(0), Swapped(), null, g).ToDoubleArray());
        var dx = Ops.Conv2dBackwardInput(OneChannel(5), weight, xShape, g).ToDoubleArray();
        var dxSwapped = Ops.Conv2dBackwardInput(OneChannel(5), Swapped(), xShape, g).ToDoubleArray();
        Assert.Equal(dx.AsSpan(tail * size * size, size * size).ToArray(), dxSwapped.AsSpan(0, size * size).ToArray());
        Assert.Equal(dx.AsSpan(0, size * size).ToArray(), dxSwapped.AsSpan(tail * size * size, size * size).ToArray());
    }

    /// <summary>
    /// An im2col workspace a convolution outgrows joins its accelerator's free lists, and once a tensor takes it no
    /// convolution writes to it. On a thread of its own, whose workspace starts empty.
    /// </summary>
    [Fact]
    public async Task AnOutgrownWorkspaceGoesToTheFreeListsAndIsNoLongerWritten()
    {
        await Task.Factory.StartNew(() =>
        {
            var acc = Context.Default.CreateCpuAccelerator(1);
            var g = Conv2dGeometry.Square(1, 1, 1);
            var w = Tensor.Normal([4, 3, 3, 3], new Generator(1), accelerator: acc);
            Ops.Conv2d(Tensor.Normal([1, 3, 8, 8], new Generator(2), accelerator: acc), w, null, g); // columns: 3 × 9 × 64
            Assert.Equal(0, acc.CachedBytes);
            var large = Tensor.Normal([1, 3, 16, 16], new Generator(3), accelerator: acc);
            Ops.Conv2d(large, w, null, g); // 3 × 9 × 256: the first workspace goes to the free lists
            Assert.Equal((3 * 9 * 64 + CpuAccelerator.Slack<float>()) * sizeof(float), acc.CachedBytes);
            using var scope = TensorScope.Open();
            var taken = Tensor.Full([3 * 9 * 64], 5.0, accelerator: acc);
            Assert.Equal(0, acc.CachedBytes);
            Ops.Conv2d(large, w, null, g);
            Assert.Equal(Enumerable.Repeat(5f, 3 * 9 * 64), taken.ToArray<float>());
        }, TaskCreationOptions.LongRunning);
    }

    [Fact]
    public void BadConvInputNamesBothShapes()
    {
        var e = Assert.Throws<ShapeException>(() => Ops.Conv2d(Tensor.Zeros([1, 3, 8, 8]), Tensor.Zeros([4, 2, 3, 3]), null, Conv2dGeometry.Square(1, 1, 1)));
        Assert.Contains("conv2d", e.Message);
        Assert.Contains("[1, 3, 8, 8]", e.Message);
        Assert.Contains("[4, 2, 3, 3]", e.Message);
    }
}
