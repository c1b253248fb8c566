namespace IlgpuSeg.Data.Augmentation;

/// <summary>
/// The ranges of the SSL-ALPNet training augmentation (<c>sabs_aug</c>, PROTOCOL §4.3). <see cref="SslAlpNet"/> holds
/// the reference values; flips are off in the reference and are not offered.
/// </summary>
public sealed record AugmentationOptions
{
    public static AugmentationOptions SslAlpNet { get; } = new();

    /// <summary>No geometric or intensity change: episodes built with it show the raw slice.</summary>
    public static AugmentationOptions None { get; } = new() { Affine = false, Elastic = false, Gamma = false };

    public bool Affine { get; init; } = true;

    /// <summary>Rotation angle ~ U(−r, r) degrees about the slice centre.</summary>
    public double RotationDegrees { get; init; } = 5;

    /// <summary>Shift ~ U(−t, t) pixels along x (columns) and along y (rows).</summary>
    public double TranslationX { get; init; } = 5;
    public double TranslationY { get; init; } = 5;

    /// <summary>Shear angle ~ U(−s, s) degrees, matrix [[1, −sin θ, 0], [0, cos θ, 0]].</summary>
    public double ShearDegrees { get; init; } = 5;

    /// <summary>Isotropic zoom ~ U(min, max) about the centre (> 1 enlarges).</summary>
    public double ZoomMin { get; init; } = 0.9;
    public double ZoomMax { get; init; } = 1.2;

    public bool Elastic { get; init; } = true;

    /// <summary>Displacement scale in pixels after blurring.</summary>
    public double ElasticAlpha { get; init; } = 10;

    /// <summary>Gaussian σ of the displacement blur; the kernel side is <c>int(4σ) | 1</c> (21 for σ = 5).</summary>
    public double ElasticSigma { get; init; } = 5;

    public bool Gamma { get; init; } = true;

    /// <summary>γ ~ U(min, max), image only.</summary>
    public double GammaMin { get; init; } = 0.5;
    public double GammaMax { get; init; } = 1.5;
}
