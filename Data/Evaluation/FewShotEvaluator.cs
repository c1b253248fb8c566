using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Episodes;

namespace IlgpuSeg.Data.Evaluation;

/// <summary>
/// The model under test: given the support slice, its 0/1 mask and a query slice (z-scored, [H, W]), return the
/// foreground probability of every query pixel. A pixel is predicted foreground when it is above 0.5, which is the
/// reference's argmax over (background, foreground) for a two-class softmax; a 0/1 mask works too.
/// </summary>
public delegate Slice2D<float> FewShotPredictor(Slice2D<float> supportImage, Slice2D<byte> supportMask, Slice2D<float> queryImage);

/// <summary>The multi-rater twin: one support mask per rater in, one probability map per rater out (same order).</summary>
public delegate IReadOnlyList<Slice2D<float>> MultiRaterPredictor(Slice2D<float> supportImage, IReadOnlyList<Slice2D<byte>> supportMasks, Slice2D<float> queryImage);

/// <summary>One predicted query slice: where it is, the support slice and masks it was predicted from, and each rater's probabilities.</summary>
public sealed record PredictedSlice(int Pid, int ClassId, int Z, Slice2D<float> SupportImage, IReadOnlyList<Slice2D<byte>> SupportMasks,
    Slice2D<float> QueryImage, IReadOnlyList<Slice2D<float>> Probabilities);

public sealed record EvaluationOptions
{
    /// <summary>n_sup_part: number of query chunks, each with its own support slice.</summary>
    public int SupportParts { get; init; } = 3;

    /// <summary>Rater styles applied to support and query ground truth (per slice); one identity rater by default.</summary>
    public IReadOnlyList<RaterStyle> Raters { get; init; } = SimulatedRaters.Single;

    /// <summary>Called with every predicted query slice (e.g. to save the predictions as volumes); null: nothing is kept.</summary>
    public Action<PredictedSlice>? OnPrediction { get; init; }

    /// <summary>Used only for class names in the result.</summary>
    public DatasetInfo Dataset { get; init; } = DatasetInfo.Chaos;
}

/// <summary>
/// The evaluation protocol of PROTOCOL §6.3–6.4 for one support scan and its query scans. For each test class:
/// support slices at fractions p_i of the support scan's class slices; each query slice inside the class's
/// ground-truth z-range [z_min, z_max] of that query scan is assigned a part and predicted 1-shot with that part's
/// support slice; only those slices are predicted and scored (slices outside the range do not count in the
/// reference either). TP/FP/FN are summed per scan, class and rater, giving a 3D Dice per scan.
/// </summary>
public static class FewShotEvaluator
{
    public static EvaluationResult Evaluate(Scan support, IReadOnlyList<Scan> queries, IReadOnlyList<int> testClasses, FewShotPredictor predict, EvaluationOptions? options = null)
    {
        options ??= new EvaluationOptions();
        if (options.Raters.Count != 1)
            throw new ArgumentException("a single-rater predictor needs exactly one rater style; use EvaluateRaters");
        return EvaluateRaters(support, queries, testClasses, (image, masks, query) => [predict(image, masks[0], query)], options);
    }

    public static EvaluationResult EvaluateRaters(Scan support, IReadOnlyList<Scan> queries, IReadOnlyList<int> testClasses, MultiRaterPredictor predict, EvaluationOptions? options = null)
    {
        options ??= new EvaluationOptions();
        var raters = options.Raters;
        var scores = new List<ScanScore>();
        foreach (var cls in testClasses)
        {
            var supportSlices = SupportSlices.Pick(support.SlicesWith(cls), options.SupportParts);
            var supportImages = supportSlices.Select(support.Image.Slice).ToArray();
            var supportMasks = supportSlices
                .Select(z => (IReadOnlyList<Slice2D<byte>>)raters.Select(r => r.Apply(SameSliceEpisode.Binarize(support.Label.Slice(z), cls))).ToArray())
                .ToArray();

            foreach (var query in queries)
            {
                var classSlices = query.SlicesWith(cls);
                if (classSlices.Length == 0)
                    throw new ArgumentException($"query scan {query.Pid} has no voxel of class {cls}, so it has no z-range to score");
                int zMin = classSlices[0], zMax = classSlices[^1];
                var counts = new OverlapCounts[raters.Count];
                for (var z = zMin; z <= zMax; z++)
                {
                    var part = QueryChunks.Part(z, zMin, zMax, options.SupportParts);
                    var queryImage = query.Image.Slice(z);
                    var predictions = predict(supportImages[part], supportMasks[part], queryImage);
                    if (predictions.Count != raters.Count)
                        throw new InvalidOperationException($"the predictor returned {predictions.Count} maps for {raters.Count} raters");
                    options.OnPrediction?.Invoke(new PredictedSlice(query.Pid, cls, z, supportImages[part], supportMasks[part], queryImage, predictions));
                    var truth = SameSliceEpisode.Binarize(query.Label.Slice(z), cls);
                    for (var r = 0; r < raters.Count; r++)
                    {
                        var probabilities = predictions[r];
                        if (!probabilities.SameSize(queryImage))
                            throw new InvalidOperationException($"the predictor returned a {probabilities.Height}x{probabilities.Width} map for a {queryImage.Height}x{queryImage.Width} query");
                        var predicted = Array.ConvertAll(probabilities.Data, p => p > 0.5f ? (byte)1 : (byte)0);
                        counts[r] = counts[r].Add(OverlapCounts.Of(predicted, raters[r].Apply(truth).Data));
                    }
                }
                for (var r = 0; r < raters.Count; r++)
                    scores.Add(new ScanScore(query.Pid, cls, r, zMin, zMax, counts[r]));
            }
        }
        return new EvaluationResult(scores, testClasses.ToArray(), raters.Count, options.Dataset);
    }
}
