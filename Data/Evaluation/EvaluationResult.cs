using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Data.Evaluation;

/// <summary>One query scan, class and rater: the counts over its scored slices [ZMin, ZMax].</summary>
public sealed record ScanScore(int Pid, int ClassId, int Rater, int ZMin, int ZMax, OverlapCounts Counts)
{
    public double Dice => Counts.Dice;
    public double Precision => Counts.Precision;
    public double Recall => Counts.Recall;
}

/// <summary>Per class: the mean and population std over query scans of the scan Dice (averaged over raters first, as JAPC does).</summary>
public sealed record ClassSummary(int ClassId, string Name, double MeanDice, double StdDice, double MeanPrecision, double MeanRecall);

public sealed class EvaluationResult
{
    public EvaluationResult(IReadOnlyList<ScanScore> scores, IReadOnlyList<int> classes, int raters, DatasetInfo dataset)
    {
        Scores = scores;
        Raters = raters;
        Dataset = dataset;
        Classes = classes.Select(c =>
        {
            var perScan = scores.Where(s => s.ClassId == c).GroupBy(s => s.Pid)
                .Select(g => (Dice: g.Average(s => s.Dice), Precision: g.Average(s => s.Precision), Recall: g.Average(s => s.Recall)))
                .ToArray();
            var mean = perScan.Average(s => s.Dice);
            var std = Math.Sqrt(perScan.Average(s => (s.Dice - mean) * (s.Dice - mean)));
            return new ClassSummary(c, dataset.NameOf(c), mean, std, perScan.Average(s => s.Precision), perScan.Average(s => s.Recall));
        }).ToArray();
        MeanDice = Classes.Average(c => c.MeanDice);
        RaterMeanDice = Enumerable.Range(0, raters)
            .Select(r => classes.Average(c => scores.Where(s => s.ClassId == c && s.Rater == r).Average(s => s.Dice)))
            .ToArray();
    }

    public IReadOnlyList<ScanScore> Scores { get; }

    public int Raters { get; }

    /// <summary>The dataset whose classes were scored (for their names).</summary>
    public DatasetInfo Dataset { get; }

    public IReadOnlyList<ClassSummary> Classes { get; }

    /// <summary>Mean over classes of the per-class mean Dice: the number the papers report per fold.</summary>
    public double MeanDice { get; }

    /// <summary>For each rater: the mean over classes of the mean over scans of that rater's Dice.</summary>
    public IReadOnlyList<double> RaterMeanDice { get; }
}
