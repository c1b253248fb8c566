using IlgpuSeg.Data.Augmentation;
using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Episodes;

/// <summary>
/// Binary morphology on 0/1 masks with a structuring element given as offsets (dy, dx) from its anchor, in the
/// mathematical convention: erosion keeps p when every p + o is foreground (pixels outside the slice count as
/// foreground, as OpenCV's default border does, so the slice edge does not erode); dilation sets p when some
/// p − o is foreground (outside counts as background).
/// </summary>
public static class Morphology
{
    /// <summary>
    /// OpenCV's <c>getStructuringElement(MORPH_ELLIPSE, (2k+1, 2k+1))</c>: row dy spans ±round(k·√(1 − dy²/k²))
    /// columns, giving the 3 × 3 cross for k = 1 and the usual discs for k = 2, 3.
    /// </summary>
    public static (int Dy, int Dx)[] Ellipse(int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), "kernel radius must be at least 1");
        var offsets = new List<(int, int)>();
        for (var dy = -k; dy <= k; dy++)
        {
            var span = (int)Math.Round(k * Math.Sqrt((k * k - dy * dy) / (double)(k * k)), MidpointRounding.ToEven);
            for (var dx = -span; dx <= span; dx++) offsets.Add((dy, dx));
        }
        return [.. offsets];
    }

    /// <summary>The (2k+1) × (k+1) half of a square: columns 0..k toward <paramref name="side"/> (or rows, for up/down), rows ±k.</summary>
    public static (int Dy, int Dx)[] HalfSquare(int k, Direction side)
    {
        var offsets = new List<(int, int)>();
        for (var a = -k; a <= k; a++)
            for (var b = 0; b <= k; b++)
                offsets.Add(side switch
                {
                    Direction.Left => (a, -b),
                    Direction.Right => (a, b),
                    Direction.Up => (-b, a),
                    Direction.Down => (b, a),
                    _ => throw new ArgumentOutOfRangeException(nameof(side)),
                });
        return [.. offsets];
    }

    public static Slice2D<byte> Erode(Slice2D<byte> mask, (int Dy, int Dx)[] element)
    {
        var result = new Slice2D<byte>(mask.Height, mask.Width);
        for (var y = 0; y < mask.Height; y++)
            for (var x = 0; x < mask.Width; x++)
            {
                var keep = true;
                foreach (var (dy, dx) in element)
                {
                    int yy = y + dy, xx = x + dx;
                    if ((uint)yy < (uint)mask.Height && (uint)xx < (uint)mask.Width && mask[yy, xx] == 0) { keep = false; break; }
                }
                result[y, x] = keep ? (byte)1 : (byte)0;
            }
        return result;
    }

    public static Slice2D<byte> Dilate(Slice2D<byte> mask, (int Dy, int Dx)[] element)
    {
        var result = new Slice2D<byte>(mask.Height, mask.Width);
        // Only pixels within the element's reach of the foreground's bounding box can turn on; the feature-scale
        // kernels (METHODS §6, radius up to 2 cells) would otherwise scan every element offset at every pixel.
        int y0 = mask.Height, y1 = -1, x0 = mask.Width, x1 = -1;
        for (var y = 0; y < mask.Height; y++)
            for (var x = 0; x < mask.Width; x++)
                if (mask[y, x] != 0) (y0, y1, x0, x1) = (Math.Min(y0, y), Math.Max(y1, y), Math.Min(x0, x), Math.Max(x1, x));
        if (y1 < 0) return result;
        int reachY = element.Max(e => Math.Abs(e.Dy)), reachX = element.Max(e => Math.Abs(e.Dx));
        for (var y = Math.Max(0, y0 - reachY); y <= Math.Min(mask.Height - 1, y1 + reachY); y++)
            for (var x = Math.Max(0, x0 - reachX); x <= Math.Min(mask.Width - 1, x1 + reachX); x++)
                foreach (var (dy, dx) in element)
                {
                    int yy = y - dy, xx = x - dx;
                    if ((uint)yy < (uint)mask.Height && (uint)xx < (uint)mask.Width && mask[yy, xx] != 0) { result[y, x] = 1; break; }
                }
        return result;
    }

    public static Slice2D<byte> Open(Slice2D<byte> mask, (int Dy, int Dx)[] element) => Dilate(Erode(mask, element), element);

    public static Slice2D<byte> Close(Slice2D<byte> mask, (int Dy, int Dx)[] element) => Erode(Dilate(mask, element), element);

    /// <summary>
    /// Shifts the mask's boundary by k pixels toward <paramref name="side"/> (per iteration): erode with the half
    /// square facing away (the trailing edge recedes by k, the two flanks by k), then dilate with the half square
    /// facing <paramref name="side"/> (the leading edge advances by k, the flanks grow back). An axis-aligned
    /// rectangle moves by exactly k. JAPC's code dilates with the opposite half kernel in OpenCV's unreflected
    /// convention, which makes the pair an opening rather than a shift; this is the shift METHODS §4 describes.
    /// </summary>
    public static Slice2D<byte> ShiftBoundary(Slice2D<byte> mask, int k, Direction side, int iterations = 1)
    {
        var trailing = HalfSquare(k, Opposite(side));
        var leading = HalfSquare(k, side);
        for (var i = 0; i < iterations; i++) mask = Erode(mask, trailing);
        for (var i = 0; i < iterations; i++) mask = Dilate(mask, leading);
        return mask;
    }

    /// <summary>Sets to foreground every background region not 4-connected to the slice edge (<c>scipy.ndimage.binary_fill_holes</c>).</summary>
    public static Slice2D<byte> FillHoles(Slice2D<byte> mask)
    {
        int h = mask.Height, w = mask.Width;
        var outside = new bool[h * w];
        var stack = new Stack<int>();
        void Push(int y, int x)
        {
            var i = y * w + x;
            if (mask.Data[i] == 0 && !outside[i]) { outside[i] = true; stack.Push(i); }
        }
        for (var x = 0; x < w; x++) { Push(0, x); Push(h - 1, x); }
        for (var y = 0; y < h; y++) { Push(y, 0); Push(y, w - 1); }
        while (stack.Count > 0)
        {
            var i = stack.Pop();
            int y = i / w, x = i % w;
            if (y > 0) Push(y - 1, x);
            if (y < h - 1) Push(y + 1, x);
            if (x > 0) Push(y, x - 1);
            if (x < w - 1) Push(y, x + 1);
        }
        var result = new Slice2D<byte>(h, w);
        for (var i = 0; i < outside.Length; i++) result.Data[i] = outside[i] ? (byte)0 : (byte)1;
        return result;
    }

    /// <summary>Drops 4-connected foreground components smaller than <paramref name="minSize"/> pixels (<c>scipy.ndimage.label</c> connectivity).</summary>
    public static Slice2D<byte> PruneComponents(Slice2D<byte> mask, int minSize)
    {
        int h = mask.Height, w = mask.Width;
        var result = new Slice2D<byte>(h, w);
        var seen = new bool[h * w];
        var component = new List<int>();
        var stack = new Stack<int>();
        for (var start = 0; start < seen.Length; start++)
        {
            if (mask.Data[start] == 0 || seen[start]) continue;
            component.Clear();
            seen[start] = true;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var i = stack.Pop();
                component.Add(i);
                int y = i / w, x = i % w;
                foreach (var (yy, xx) in new[] { (y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1) })
                {
                    if ((uint)yy >= (uint)h || (uint)xx >= (uint)w) continue;
                    var j = yy * w + xx;
                    if (mask.Data[j] != 0 && !seen[j]) { seen[j] = true; stack.Push(j); }
                }
            }
            if (component.Count >= Math.Max(1, minSize))
                foreach (var i in component) result.Data[i] = 1;
        }
        return result;
    }

    /// <summary>Gaussian blur (σ, kernel max(3, 2·round(3σ)+1), reflect-101 border) of the 0/1 mask, then foreground where the blur is ≥ 0.5.</summary>
    public static Slice2D<byte> BlurThreshold(Slice2D<byte> mask, double sigma)
    {
        var size = Math.Max(3, 2 * (int)Math.Round(3 * sigma, MidpointRounding.ToEven) + 1);
        var blurred = GaussianBlur.Apply(Array.ConvertAll(mask.Data, v => (double)v), mask.Height, mask.Width, size, sigma);
        return new Slice2D<byte>(mask.Height, mask.Width, Array.ConvertAll(blurred, v => v >= 0.5 ? (byte)1 : (byte)0));
    }

    public static int Count(Slice2D<byte> mask)
    {
        var n = 0;
        foreach (var v in mask.Data) if (v != 0) n++;
        return n;
    }

    private static Direction Opposite(Direction side) => side switch
    {
        Direction.Left => Direction.Right,
        Direction.Right => Direction.Left,
        Direction.Up => Direction.Down,
        _ => Direction.Up,
    };
}

/// <summary>A side of the slice: left/right are −x/+x (columns), up/down are −y/+y (rows).</summary>
public enum Direction
{
    Left,
    Right,
    Up,
    Down,
}
