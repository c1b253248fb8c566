namespace IlgpuSeg.Data.Evaluation;

/// <summary>
/// The support slice of each query chunk (PROTOCOL §6.3): with n parts, fractions p_i = 1/(2n) + i·(1 − 1/n)/(n − 1)
/// (1/6, 1/2, 5/6 for n = 3; 1/2 for n = 1), and the support slice of part i is zlist[int(p_i·len(zlist))], zlist being
/// the sorted slices of the support scan that hold the class.
/// </summary>
public static class SupportSlices
{
    public static double[] Fractions(int parts)
    {
        if (parts < 1) throw new ArgumentOutOfRangeException(nameof(parts), "at least one part");
        if (parts == 1) return [0.5];
        // Same operation order as the reference (half + interval·i), so int(p·len) matches it bit for bit.
        double half = 1.0 / (parts * 2), interval = (1.0 - 1.0 / parts) / (parts - 1);
        return Enumerable.Range(0, parts).Select(i => half + interval * i).ToArray();
    }

    public static int[] Pick(IReadOnlyList<int> classSlices, int parts)
    {
        if (classSlices.Count == 0) throw new ArgumentException("the support scan has no slice with the class");
        return Fractions(parts).Select(p => classSlices[(int)(p * classSlices.Count)]).ToArray();
    }
}
