namespace IlgpuSeg.Data.Superpixels;

/// <summary>
/// <c>numpy.argsort(values)</c> with the default kind ('quicksort'), as NumPy 1.24 does it for float64: an
/// introsort (median-of-3 quicksort, insertion sort below 16 elements, heapsort past a depth limit).
/// It is not stable, and Felzenszwalb's result depends on the order of equal edge costs: with a stable sort,
/// one of the 62 CHAOS test slices (pid 15, slice 2) comes out differently from scikit-image. So the
/// permutation, ties included, has to be NumPy's. (NumPy 1.25+ may use AVX-512 argsort on some CPUs, which
/// orders ties differently again.)
/// </summary>
public static class NumpyArgsort
{
    private const int SmallPartition = 16; // partitions of at most this many elements are insertion-sorted

    public static int[] Argsort(ReadOnlySpan<double> values)
    {
        var order = new int[values.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        if (order.Length > 1) IntroSort(values, order);
        return order;
    }

    // NumPy's ordering: NaN after every number.
    private static bool Less(double a, double b) => a < b || (double.IsNaN(b) && !double.IsNaN(a));

    private static void IntroSort(ReadOnlySpan<double> v, int[] order)
    {
        var stack = new Stack<(int Left, int Right, int Depth)>();
        int left = 0, right = order.Length - 1;
        var depth = 2 * FloorLog2(order.Length);
        while (true)
        {
            if (depth < 0)
            {
                HeapSort(v, order.AsSpan(left, right - left + 1));
            }
            else
            {
                while (right - left >= SmallPartition)
                {
                    var pivotIndex = Partition(v, order, left, right);
                    // NumPy continues with the smaller side and defers the larger; both inherit one less depth
                    // (the limit is only checked when a deferred side is taken up).
                    depth--;
                    if (pivotIndex - left < right - pivotIndex)
                    {
                        stack.Push((pivotIndex + 1, right, depth));
                        right = pivotIndex - 1;
                    }
                    else
                    {
                        stack.Push((left, pivotIndex - 1, depth));
                        left = pivotIndex + 1;
                    }
                }
                InsertionSort(v, order, left, right);
            }
            if (stack.Count == 0) return;
            (left, right, depth) = stack.Pop();
        }
    }

    /// <summary>Median-of-3 pivot parked at right-1, Hoare scan stopping on equal keys; returns the pivot's final slot.</summary>
    private static int Partition(ReadOnlySpan<double> v, int[] o, int left, int right)
    {
        var mid = left + ((right - left) >> 1);
        if (Less(v[o[mid]], v[o[left]])) Swap(o, mid, left);
        if (Less(v[o[right]], v[o[mid]])) Swap(o, right, mid);
        if (Less(v[o[mid]], v[o[left]])) Swap(o, mid, left);
        var pivot = v[o[mid]];
        int i = left, j = right - 1;
        Swap(o, mid, j);
        while (true)
        {
            do i++; while (Less(v[o[i]], pivot));
            do j--; while (Less(pivot, v[o[j]]));
            if (i >= j) break;
            Swap(o, i, j);
        }
        Swap(o, i, right - 1);
        return i;
    }

    private static void InsertionSort(ReadOnlySpan<double> v, int[] o, int left, int right)
    {
        for (var i = left + 1; i <= right; i++)
        {
            var item = o[i];
            var key = v[item];
            var j = i;
            while (j > left && Less(key, v[o[j - 1]]))
            {
                o[j] = o[j - 1];
                j--;
            }
            o[j] = item;
        }
    }

    /// <summary>NumPy's heapsort (1-based heap over <paramref name="a"/>), used when quicksort recursion gets too deep.</summary>
    private static void HeapSort(ReadOnlySpan<double> v, Span<int> a)
    {
        var n = a.Length;
        for (var l = n >> 1; l > 0; l--) SiftDown(v, a, l, n);
        while (n > 1)
        {
            (a[n - 1], a[0]) = (a[0], a[n - 1]);
            n--;
            SiftDown(v, a, 1, n);
        }
    }

    private static void SiftDown(ReadOnlySpan<double> v, Span<int> a, int start, int n)
    {
        // Heap positions are 1-based as in NumPy: position p is a[p - 1].
        var item = a[start - 1];
        int i = start, j = start << 1;
        while (j <= n)
        {
            if (j < n && Less(v[a[j - 1]], v[a[j]])) j++;
            if (!Less(v[item], v[a[j - 1]])) break;
            a[i - 1] = a[j - 1];
            i = j;
            j += j;
        }
        a[i - 1] = item;
    }

    private static int FloorLog2(int n)
    {
        var bits = 0;
        while ((n >>= 1) != 0) bits++;
        return bits;
    }

    private static void Swap(int[] o, int i, int j) => (o[i], o[j]) = (o[j], o[i]);
}
