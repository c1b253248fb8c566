namespace IlgpuSeg.Data.Evaluation;

/// <summary>
/// True/false positives and false negatives summed over the scored slices of one scan, giving a 3D Dice per scan
/// (SSL-ALPNet <c>util/metric.py</c>). When a ratio has nothing to count (e.g. no prediction for precision), it is
/// 1 if nothing was missed either, else 0.
/// </summary>
public readonly record struct OverlapCounts(long TruePositives, long FalsePositives, long FalseNegatives)
{
    public OverlapCounts Add(OverlapCounts other) =>
        new(TruePositives + other.TruePositives, FalsePositives + other.FalsePositives, FalseNegatives + other.FalseNegatives);

    public double Dice => Ratio(2 * TruePositives, 2 * TruePositives + FalsePositives + FalseNegatives);
    public double Precision => Ratio(TruePositives, TruePositives + FalsePositives);
    public double Recall => Ratio(TruePositives, TruePositives + FalseNegatives);

    /// <summary>Counts of a 0/1 prediction against a 0/1 truth, pixel by pixel.</summary>
    public static OverlapCounts Of(ReadOnlySpan<byte> prediction, ReadOnlySpan<byte> truth)
    {
        if (prediction.Length != truth.Length) throw new ArgumentException("prediction and truth differ in size");
        long tp = 0, fp = 0, fn = 0;
        for (var i = 0; i < truth.Length; i++)
        {
            bool p = prediction[i] != 0, t = truth[i] != 0;
            if (p && t) tp++;
            else if (p) fp++;
            else if (t) fn++;
        }
        return new OverlapCounts(tp, fp, fn);
    }

    private double Ratio(long numerator, long denominator) =>
        denominator > 0 ? numerator / (double)denominator : FalsePositives + FalseNegatives == 0 ? 1 : 0;
}
