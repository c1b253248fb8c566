using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Data.Augmentation;

/// <summary>The random parameters of one augmentation; a null part is not applied.</summary>
public sealed record AugmentationDraw(AffineParameters? Affine, ElasticField? Elastic, double? Gamma)
{
    public static AugmentationDraw Identity => new(null, null, null);
}

/// <summary>An augmented slice with its masks (same order as given).</summary>
public sealed record AugmentedSlice(Slice2D<float> Image, IReadOnlyList<Slice2D<byte>> Masks, AugmentationDraw Draw);

/// <summary>
/// The SSL-ALPNet training augmentation (PROTOCOL §4.3): affine then elastic on the image and every mask together,
/// then gamma on the image. Each binary mask is carried as two one-hot channels (background, foreground), warped
/// bilinearly like the image, rounded half-to-even and arg-maxed (first maximum wins), as the reference does; for
/// a multi-class label this gives the same classes as warping all its one-hot channels, since at most one
/// channel can round to 1. All randomness comes from the given <see cref="Generator"/>, so the same generator
/// state gives the same bits.
/// </summary>
public sealed class Augmenter(AugmentationOptions options)
{
    public AugmentationOptions Options { get; } = options;

    /// <summary>Draws parameters in the reference's order: rotation, shift x, shift y, shear, zoom, elastic DX, DY, gamma.</summary>
    public AugmentationDraw Draw(Generator generator, int height, int width)
    {
        AffineParameters? affine = null;
        if (Options.Affine)
            affine = new AffineParameters(
                Uniform(generator, -Options.RotationDegrees, Options.RotationDegrees),
                Uniform(generator, -Options.TranslationX, Options.TranslationX),
                Uniform(generator, -Options.TranslationY, Options.TranslationY),
                Uniform(generator, -Options.ShearDegrees, Options.ShearDegrees),
                Uniform(generator, Options.ZoomMin, Options.ZoomMax));
        var elastic = Options.Elastic ? ElasticField.Draw(generator, height, width, Options.ElasticAlpha, Options.ElasticSigma) : null;
        double? gamma = Options.Gamma ? Uniform(generator, Options.GammaMin, Options.GammaMax) : null;
        return new AugmentationDraw(affine, elastic, gamma);
    }

    public AugmentedSlice Apply(Slice2D<float> image, IReadOnlyList<Slice2D<byte>> masks, Generator generator) =>
        Apply(image, masks, Draw(generator, image.Height, image.Width));

    public static AugmentedSlice Apply(Slice2D<float> image, IReadOnlyList<Slice2D<byte>> masks, AugmentationDraw draw)
    {
        foreach (var mask in masks)
            if (!mask.SameSize(image)) throw new ArgumentException($"mask {mask.Height}x{mask.Width} differs from image {image.Height}x{image.Width}");
        int h = image.Height, w = image.Width;
        var matrix = draw.Affine?.ForwardMatrix(h, w);

        float[] Geometric(float[] channel)
        {
            if (matrix != null) channel = AffineWarp.Apply(channel, h, w, matrix);
            if (draw.Elastic != null) channel = draw.Elastic.Apply(channel);
            return channel;
        }

        var outImage = Geometric((float[])image.Data.Clone()); // a copy, so support and query never share storage
        if (draw.Gamma is { } gamma) outImage = GammaTransform.Apply(outImage, gamma);

        var outMasks = new List<Slice2D<byte>>(masks.Count);
        foreach (var mask in masks)
        {
            var background = Geometric(Array.ConvertAll(mask.Data, v => v != 0 ? 0f : 1f));
            var foreground = Geometric(Array.ConvertAll(mask.Data, v => v != 0 ? 1f : 0f));
            var result = new byte[h * w];
            for (var i = 0; i < result.Length; i++)
                result[i] = Math.Round(foreground[i], MidpointRounding.ToEven) > Math.Round(background[i], MidpointRounding.ToEven) ? (byte)1 : (byte)0;
            outMasks.Add(new Slice2D<byte>(h, w, result));
        }
        return new AugmentedSlice(new Slice2D<float>(h, w, outImage), outMasks, draw);
    }

    private static double Uniform(Generator generator, double low, double high) => low + (high - low) * generator.NextDouble();
}
