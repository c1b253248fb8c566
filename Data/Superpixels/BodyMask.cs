namespace IlgpuSeg.Data.Superpixels;

/// <summary>
/// The per-slice body mask of SSL-ALPNet's pseudo-label notebook (<c>fg_mask2d</c>): pixels above a threshold,
/// the largest connected component, holes filled. It keeps superpixels out of the empty air around the patient.
/// </summary>
public static class BodyMask
{
    /// <summary>The notebook's threshold for CHAOS T2 MRI (raw intensities, 0 to about 1300).</summary>
    public const double ChaosMriThreshold = 1e-4 + 50;

    /// <summary>The notebook's threshold for abdominal CT windowed to 0–255.</summary>
    public const double CtThreshold = 1e-4;

    /// <summary>The threshold of a dataset's modality (PROTOCOL §4.1).</summary>
    public static double ThresholdFor(Preprocessing.Modality modality) => modality == Preprocessing.Modality.Ct ? CtThreshold : ChaosMriThreshold;

    /// <summary>
    /// The mask of a row-major (height × width) slice. If no pixel is above the threshold the (empty) raw mask is
    /// returned, as the notebook does. Components are 8-connected because the notebook labels them with
    /// skimage.measure.label, whose default connectivity is the full neighbourhood; equal largest components go to
    /// the one whose first pixel comes first in row-major order (skimage numbers components that way and argmax
    /// takes the first). Holes are filled as scipy.ndimage.binary_fill_holes does with its default structure:
    /// background not reachable from outside the image through 4-connected background.
    /// </summary>
    public static bool[] Compute(ReadOnlySpan<double> slice, int height, int width, double threshold)
    {
        if (slice.Length != height * width) throw new ArgumentException($"{slice.Length} values for a {height}x{width} slice");
        var above = new bool[slice.Length];
        var any = false;
        for (var i = 0; i < slice.Length; i++)
        {
            above[i] = slice[i] > threshold;
            any |= above[i];
        }
        if (!any) return above;
        return FillHoles(LargestComponent(above, height, width), height, width);
    }

    private static bool[] LargestComponent(bool[] mask, int height, int width)
    {
        var component = new int[mask.Length]; // 0 = not yet visited or background; components are 1, 2, ...
        var stack = new Stack<int>();
        int best = 0, bestSize = 0, count = 0;
        for (var start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || component[start] != 0) continue;
            count++;
            var size = 0;
            component[start] = count;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                size++;
                int y = p / width, x = p % width;
                for (var dy = -1; dy <= 1; dy++)
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        int ny = y + dy, nx = x + dx;
                        if (ny < 0 || ny >= height || nx < 0 || nx >= width) continue;
                        var q = ny * width + nx;
                        if (!mask[q] || component[q] != 0) continue;
                        component[q] = count;
                        stack.Push(q);
                    }
            }
            if (size > bestSize) (best, bestSize) = (count, size); // strictly larger: ties stay with the earlier one
        }
        var largest = new bool[mask.Length];
        for (var i = 0; i < mask.Length; i++) largest[i] = component[i] == best;
        return largest;
    }

    private static bool[] FillHoles(bool[] mask, int height, int width)
    {
        // Flood the background from every background pixel on the image border, 4-connected; what it cannot reach is a hole.
        var outside = new bool[mask.Length];
        var stack = new Stack<int>();
        void Seed(int p)
        {
            if (mask[p] || outside[p]) return;
            outside[p] = true;
            stack.Push(p);
        }
        for (var x = 0; x < width; x++)
        {
            Seed(x);
            Seed((height - 1) * width + x);
        }
        for (var y = 0; y < height; y++)
        {
            Seed(y * width);
            Seed(y * width + width - 1);
        }
        while (stack.Count > 0)
        {
            var p = stack.Pop();
            int y = p / width, x = p % width;
            if (y > 0) Seed(p - width);
            if (y + 1 < height) Seed(p + width);
            if (x > 0) Seed(p - 1);
            if (x + 1 < width) Seed(p + 1);
        }
        var filled = new bool[mask.Length];
        for (var i = 0; i < mask.Length; i++) filled[i] = !outside[i];
        return filled;
    }
}
