namespace IlgpuSeg.Data.Superpixels;

/// <summary>
/// Felzenszwalb–Huttenlocher graph segmentation of a single-channel 2D image, reproducing
/// <c>skimage.segmentation.felzenszwalb(image, scale, sigma, min_size)</c> (scikit-image 0.19) for a float64
/// image, so that SSL-ALPNet's superpixels can be made without Python and come out the same.
/// </summary>
/// <remarks>
/// The steps, in scikit-image's order (each one affects which partition comes out):
/// <list type="number">
/// <item>A float64 image is used as is (img_as_float64 leaves floats alone: no rescaling to [0, 1]).</item>
/// <item>scale is divided by 255 ("to behave like the reference implementation").</item>
/// <item>Gaussian smoothing, see <see cref="GaussianFilter"/>.</item>
/// <item>Edges of the 8-neighbourhood with weight |difference| of smoothed values (for one channel the Euclidean
///   colour distance sqrt(d·d) is |d|, computed the same way), listed in the order right, down, down-right,
///   up-right, each in row-major order, and sorted by <see cref="NumpyArgsort"/>.</item>
/// <item>Edges in that order join two segments when weight &lt; min(Int(C) + scale/|C|) over both; scikit-image
///   holds each Int(C) + scale/|C| in a C float, so it is rounded to float32 before the comparison.</item>
/// <item>A second pass over the same edge order joins any two segments of which either has fewer than min_size pixels.</item>
/// <item>Labels 0..K-1 are numbered by the segment's first pixel in row-major order (scikit-image's union-find keeps
///   the smallest pixel index as the root and numbers the distinct roots in increasing order).</item>
/// </list>
/// </remarks>
public static class Felzenszwalb
{
    /// <summary>Segments a row-major (height × width) image; returns labels 0..K-1, row-major.</summary>
    public static int[] Segment(ReadOnlySpan<double> image, int height, int width, double scale = 1, double sigma = 0.8, int minSize = 20)
    {
        if (height < 1 || width < 1) throw new ArgumentException($"image size {height}x{width} must be positive");
        if (image.Length != height * width) throw new ArgumentException($"{image.Length} values for a {height}x{width} image");
        if (sigma < 0) throw new ArgumentException("sigma must not be negative");

        var k = scale / 255.0;
        var smooth = GaussianFilter.Smooth(image, height, width, sigma);
        var (from, to, cost) = Edges(smooth, height, width);
        var order = NumpyArgsort.Argsort(cost);

        var sets = new DisjointSets(height * width);
        var internalCost = new double[height * width]; // Int(C): the largest edge weight inside C, at C's root
        foreach (var e in order)
        {
            int a = sets.Find(from[e]), b = sets.Find(to[e]);
            if (a == b) continue;
            var thresholdA = (float)(internalCost[a] + k / sets.Size(a));
            var thresholdB = (float)(internalCost[b] + k / sets.Size(b));
            if (cost[e] < Math.Min(thresholdA, thresholdB))
                internalCost[sets.Union(a, b)] = cost[e]; // edges come in increasing weight, so this one is the largest
        }

        foreach (var e in order)
        {
            int a = sets.Find(from[e]), b = sets.Find(to[e]);
            if (a != b && (sets.Size(a) < minSize || sets.Size(b) < minSize)) sets.Union(a, b);
        }

        return NumberByFirstPixel(sets, height * width);
    }

    /// <summary>The 8-neighbourhood edges (each pixel pair once) and their weights, in scikit-image's order.</summary>
    private static (int[] From, int[] To, double[] Cost) Edges(double[] s, int height, int width)
    {
        var count = height * (width - 1) + (height - 1) * width + 2 * (height - 1) * (width - 1);
        var from = new int[count];
        var to = new int[count];
        var cost = new double[count];
        var n = 0;
        void Add(int p, int q)
        {
            var d = s[p] - s[q];
            from[n] = p;
            to[n] = q;
            cost[n] = Math.Sqrt(d * d);
            n++;
        }
        for (var y = 0; y < height; y++)
            for (var x = 0; x + 1 < width; x++) Add(y * width + x + 1, y * width + x); // right
        for (var y = 0; y + 1 < height; y++)
            for (var x = 0; x < width; x++) Add((y + 1) * width + x, y * width + x); // down
        for (var y = 0; y + 1 < height; y++)
            for (var x = 0; x + 1 < width; x++) Add((y + 1) * width + x + 1, y * width + x); // down-right
        for (var y = 0; y + 1 < height; y++)
            for (var x = 0; x + 1 < width; x++) Add((y + 1) * width + x, y * width + x + 1); // up-right, from the lower-left pixel
        return (from, to, cost);
    }

    private static int[] NumberByFirstPixel(DisjointSets sets, int pixels)
    {
        var labelOfRoot = new int[pixels];
        Array.Fill(labelOfRoot, -1);
        var labels = new int[pixels];
        var next = 0;
        for (var p = 0; p < pixels; p++)
        {
            var root = sets.Find(p);
            if (labelOfRoot[root] < 0) labelOfRoot[root] = next++;
            labels[p] = labelOfRoot[root];
        }
        return labels;
    }

    /// <summary>Union-find with sizes. Which element is the root does not matter: only the sets do.</summary>
    private sealed class DisjointSets
    {
        private readonly int[] _parent;
        private readonly int[] _size;

        public DisjointSets(int count)
        {
            _parent = new int[count];
            _size = new int[count];
            for (var i = 0; i < count; i++)
            {
                _parent[i] = i;
                _size[i] = 1;
            }
        }

        public int Find(int i)
        {
            while (_parent[i] != i)
            {
                _parent[i] = _parent[_parent[i]]; // path halving
                i = _parent[i];
            }
            return i;
        }

        public int Size(int root) => _size[root];

        /// <summary>Joins two roots and returns the new root.</summary>
        public int Union(int a, int b)
        {
            if (_size[a] < _size[b]) (a, b) = (b, a);
            _parent[b] = a;
            _size[a] += _size[b];
            return a;
        }
    }
}
