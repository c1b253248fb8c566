using IlgpuSeg.Engine;

namespace IlgpuSeg.Data.Augmentation;

/// <summary>
/// One elastic deformation (<c>elastic_transform_nd</c> of the reference): two displacement fields, each uniform
/// U(−1, 1) noise per pixel blurred by a Gaussian (σ, kernel side <c>int(4σ) | 1</c>) and scaled by α. DX shifts
/// the column coordinate and DY the row coordinate: output (y, x) samples the input at (y + DY, x + DX).
/// </summary>
public sealed record ElasticField(int Height, int Width, float[] DX, float[] DY)
{
    /// <summary>Draws DX then DY from the generator (H·W counters each, element i from counter first + i).</summary>
    public static ElasticField Draw(Generator generator, int height, int width, double alpha, double sigma)
    {
        var size = (int)(4 * sigma) | 1;
        return new ElasticField(height, width, DrawOne(generator, height, width, alpha, sigma, size), DrawOne(generator, height, width, alpha, sigma, size));
    }

    private static float[] DrawOne(Generator generator, int height, int width, double alpha, double sigma, int size)
    {
        var stream = generator.Take(height * width);
        var noise = new double[height * width];
        for (var i = 0; i < noise.Length; i++) noise[i] = Philox.UniformDouble(stream.Block(i)) * 2 - 1;
        var blurred = GaussianBlur.Apply(noise, height, width, size, sigma);
        // The reference casts the scaled field to float32 before adding it to the grid.
        return Array.ConvertAll(blurred, v => (float)(v * alpha));
    }

    /// <summary>Resamples a slice through the field (bilinear, reflect border as <c>map_coordinates(order=1, mode='reflect')</c>).</summary>
    public float[] Apply(ReadOnlySpan<float> source)
    {
        if (source.Length != Height * Width) throw new ArgumentException($"{source.Length} values for a {Height}x{Width} field");
        var result = new float[source.Length];
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
            {
                var i = y * Width + x;
                result[i] = (float)ReflectSampler.Sample(source, Height, Width, y + (double)DY[i], x + (double)DX[i]);
            }
        return result;
    }
}
