using IlgpuSeg.Data.Augmentation;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.DataPipeline;

public class AugmentationTests
{
    private static Slice2D<float> Ramp(int h, int w) => new(h, w, Enumerable.Range(0, h * w).Select(i => (float)Math.Sin(i * 0.37) * 3 + i % 7).ToArray());

    private static Slice2D<byte> Block(int h, int w, int y0, int x0, int size)
    {
        var mask = new Slice2D<byte>(h, w);
        for (var y = y0; y < y0 + size; y++)
            for (var x = x0; x < x0 + size; x++) mask[y, x] = 1;
        return mask;
    }

    private static (double Y, double X) Centroid(Slice2D<byte> mask)
    {
        double sy = 0, sx = 0, n = 0;
        for (var y = 0; y < mask.Height; y++)
            for (var x = 0; x < mask.Width; x++)
                if (mask[y, x] != 0) { sy += y; sx += x; n++; }
        return (sy / n, sx / n);
    }

    [Fact]
    public void IdentityParametersGiveTheInput()
    {
        var image = Ramp(32, 40);
        var mask = Block(32, 40, 5, 7, 6);
        var field = new ElasticField(32, 40, new float[32 * 40], new float[32 * 40]);
        foreach (var draw in new[] { AugmentationDraw.Identity, new AugmentationDraw(AffineParameters.Identity, field, null) })
        {
            var result = Augmenter.Apply(image, [mask], draw);
            Assert.Equal(image.Data, result.Image.Data);
            Assert.Equal(mask.Data, result.Masks[0].Data);
        }
        var gamma1 = Augmenter.Apply(image, [mask], new AugmentationDraw(null, null, 1.0));
        for (var i = 0; i < image.Data.Length; i++) Assert.Equal(image.Data[i], gamma1.Image.Data[i], 1e-4);
    }

    [Fact]
    public void RotationTurnsCounterClockwiseAboutTheCentre()
    {
        // OpenCV's forward map for +90° about (128, 128): x' = y, y' = 256 − x.
        var mask = Block(256, 256, 99, 149, 3); // centre (y 100, x 150)
        var result = Augmenter.Apply(new Slice2D<float>(256, 256), [mask], new AugmentationDraw(new AffineParameters(90, 0, 0, 0, 1), null, null));
        Assert.Equal(9, result.Masks[0].Data.Count(v => v != 0));
        var (cy, cx) = Centroid(result.Masks[0]);
        Assert.Equal(106, cy, 1e-9);
        Assert.Equal(100, cx, 1e-9);
    }

    [Fact]
    public void TranslationAndZoomMoveAPointWhereExpected()
    {
        var mask = Block(64, 64, 19, 39, 3); // centre (y 20, x 40)
        var shifted = Augmenter.Apply(new Slice2D<float>(64, 64), [mask], new AugmentationDraw(new AffineParameters(0, 3, -2, 0, 1), null, null));
        Assert.Equal((18.0, 43.0), Centroid(shifted.Masks[0]));

        // Zoom 2 about (32, 32): (x, y) → (2x − 32, 2y − 32), so the centre (40, 20) lands at (48, 8) and the block doubles.
        var zoomed = Augmenter.Apply(new Slice2D<float>(64, 64), [mask], new AugmentationDraw(new AffineParameters(0, 0, 0, 0, 2), null, null));
        var (zy, zx) = Centroid(zoomed.Masks[0]);
        Assert.Equal(8, zy, 0.6);
        Assert.Equal(48, zx, 0.6);
        Assert.InRange(zoomed.Masks[0].Data.Count(v => v != 0), 25, 49);
    }

    [Fact]
    public void ImageAndMaskMoveTogether()
    {
        var image = new Slice2D<float>(48, 48);
        var mask = Block(48, 48, 20, 10, 8);
        for (var i = 0; i < image.Data.Length; i++) image.Data[i] = mask.Data[i] * 100f;
        var options = AugmentationOptions.SslAlpNet with { Gamma = false };
        var result = new Augmenter(options).Apply(image, [mask], new Generator(5));
        for (var i = 0; i < image.Data.Length; i++)
        {
            if (result.Masks[0].Data[i] == 1) Assert.True(result.Image.Data[i] >= 49.999, $"pixel {i}: mask 1, image {result.Image.Data[i]}");
            if (result.Image.Data[i] > 50.001) Assert.Equal(1, result.Masks[0].Data[i]);
        }
    }

    [Fact]
    public void RandomAugmentationIsDeterministicAndKeepsMasksBinary()
    {
        var image = Ramp(64, 64);
        var masks = new[] { Block(64, 64, 10, 10, 20), Block(64, 64, 30, 25, 15) };
        var augmenter = new Augmenter(AugmentationOptions.SslAlpNet);
        var a = augmenter.Apply(image, masks, new Generator(42));
        var b = augmenter.Apply(image, masks, new Generator(42));
        var c = augmenter.Apply(image, masks, new Generator(43));
        Assert.Equal(a.Image.Data, b.Image.Data);
        Assert.Equal(a.Masks[1].Data, b.Masks[1].Data);
        Assert.NotEqual(a.Image.Data, c.Image.Data);
        foreach (var m in a.Masks.Concat(c.Masks)) Assert.All(m.Data, v => Assert.True(v is 0 or 1));
        Assert.InRange(a.Masks[0].Data.Count(v => v == 1), 250, 650); // 400 px under ±5° / ×0.9–1.2 / α 10
        var draw = a.Draw;
        Assert.InRange(draw.Affine!.Value.RotationDegrees, -5, 5);
        Assert.InRange(draw.Affine!.Value.Zoom, 0.9, 1.2);
        Assert.InRange(draw.Gamma!.Value, 0.5, 1.5);

        // A generator that resumes from a saved counter continues the same stream.
        var g = new Generator(7);
        augmenter.Apply(image, masks, g);
        var saved = g.Counter;
        var next = augmenter.Apply(image, masks, g);
        var resumed = augmenter.Apply(image, masks, new Generator(7) { Counter = saved });
        Assert.Equal(next.Image.Data, resumed.Image.Data);
    }

    [Fact]
    public void ElasticFieldHasTheExpectedStatistics()
    {
        const int n = 256;
        var field = ElasticField.Draw(new Generator(11), n, n, alpha: 10, sigma: 5);
        var k = GaussianBlur.Kernel(21, 5);
        var sumSquares = k.Sum(v => v * v);
        // Uniform(−1, 1) has variance 1/3; a separable blur scales it by (Σk²)², α scales the std.
        var expectedStd = 10 * Math.Sqrt(1.0 / 3) * sumSquares;
        foreach (var d in new[] { field.DX, field.DY })
        {
            var mean = d.Average(v => (double)v);
            var std = Math.Sqrt(d.Average(v => (v - mean) * (v - mean)));
            // The field is smooth, so only ~n²/(4πσ²) ≈ 200 samples are independent: the mean's spread is ≈ 0.07·std.
            Assert.InRange(mean, -0.3 * expectedStd, 0.3 * expectedStd);
            Assert.InRange(std, 0.85 * expectedStd, 1.15 * expectedStd);
            // Smooth: neighbours are strongly correlated.
            double cov = 0;
            for (var y = 0; y < n; y++)
                for (var x = 0; x + 1 < n; x++) cov += (d[y * n + x] - mean) * (d[y * n + x + 1] - mean);
            Assert.True(cov / (n * (n - 1)) / (std * std) > 0.9);
        }
        Assert.NotEqual(field.DX, field.DY);
    }

    [Fact]
    public void ReflectSamplingMatchesScipyMapCoordinates()
    {
        // scipy.ndimage.map_coordinates(a, [ys, xs], order=1, mode='reflect') with a = arange(20).reshape(4, 5) ** 1.5.
        var a = Enumerable.Range(0, 20).Select(i => (float)Math.Pow(i, 1.5)).ToArray();
        (double Y, double X, double Expected)[] cases =
        [
            (-0.3, 0.2, 0.19999999999999996), (3.7, 4.6, 82.81907992727281), (-1.5, 6.2, 13.264296398490293),
            (10.3, -7.8, 51.24518906967907), (1.25, 2.5, 26.48555181111874), (2.0, -0.5, 31.622776601683796),
        ];
        foreach (var (y, x, expected) in cases)
            Assert.Equal(expected, ReflectSampler.Sample(a, 4, 5, y, x), 1e-4);
    }

    [Fact]
    public void GaussianKernelAndBorders()
    {
        var k = GaussianBlur.Kernel(21, 5);
        Assert.Equal(1, k.Sum(), 1e-12);
        Assert.Equal(k[0], k[20]);
        Assert.Equal([1, 2, 3, 2, 0], new[] { -1, -2, 5, 6, 8 }.Select(i => GaussianBlur.Reflect101(i, 5)));
        Assert.Equal([0, 1, 4, 3, 0], new[] { -1, -2, 5, 6, 10 }.Select(i => ReflectSampler.Reflect(i, 5)));
    }
}
