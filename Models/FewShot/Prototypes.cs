using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>
/// Prototype building and matching shared by the few-shot heads (PROTOCOL §2.2): masks resized to the
/// feature grid by bilinear point sampling, local prototypes from average-pooled windows that a mask
/// covers by more than a threshold, masked-average (global) prototypes, and 20 × cosine similarity with
/// norms clamped at 1e-4.
/// </summary>
public static class Prototypes
{
    public const double CosineScale = 20;
    public const double NormFloor = 1e-4;

    /// <summary>A [1, 1, H, W] mask brought to the feature grid [1, 1, h, w] as F.interpolate(bilinear) does.</summary>
    public static Tensor MaskToGrid(Tensor mask, int h, int w) => Ops.ResizeBilinear(mask, h, w, alignCorners: false);

    /// <summary>
    /// Local prototypes [m, C]: features [1, C, h, w] average-pooled in window × window cells, keeping the cells
    /// whose pooled grid mask exceeds <paramref name="threshold"/>. Empty (m = 0) when no cell qualifies.
    /// </summary>
    public static Variable? Local(Variable features, Tensor gridMask, int window, double threshold)
    {
        var keep = LocalCells(gridMask, window, threshold);
        if (keep.Length == 0) return null;
        var pooled = F.AvgPool2d(features, window, window);
        int channels = features.Shape[1];
        var cells = F.Reshape(pooled, channels, -1);
        return F.Transpose(F.IndexSelect(cells, 1, keep), 0, 1);
    }

    /// <summary>The window × window cells (row-major indices) whose pooled grid mask exceeds <paramref name="threshold"/>: the rows of <see cref="Local"/>.</summary>
    public static int[] LocalCells(Tensor gridMask, int window, double threshold)
    {
        var pooledMask = Ops.AvgPool2d(gridMask, new Pool2dGeometry(window, window, 0)).ToDoubleArray();
        return Enumerable.Range(0, pooledMask.Length).Where(i => pooledMask[i] > threshold).ToArray();
    }

    /// <summary>Masked average pooling [1, C]: Σ F·m / (Σ m + 1e-5) over the grid.</summary>
    public static Variable Global(Variable features, Tensor gridMask)
    {
        var m = new Variable(gridMask);
        var weighted = F.Sum(F.Mul(features, m), [0, 2, 3]);
        double area = Ops.Sum(gridMask).Item();
        return F.Reshape(F.MulScalar(weighted, 1 / (area + 1e-5)), 1, -1);
    }

    /// <summary>Rows divided by their L2 norm clamped below at 1e-4 (SSL-ALPNet's safe_norm).</summary>
    public static Variable Normalize(Variable x, int axis)
    {
        return F.Div(x, F.Clamp(F.Norm(x, axis, keepDim: true), NormFloor, double.MaxValue));
    }

    /// <summary>
    /// The class score map [h·w] of query features [1, C, h, w] against prototypes [m, C]: d_k = 20·cos, fused as
    /// Σ_k softmax_k(d)·d_k (a soft maximum over the class's prototypes).
    /// </summary>
    public static Variable Score(Variable prototypes, Variable queryFeatures)
    {
        int channels = queryFeatures.Shape[1];
        var q = Normalize(F.Reshape(queryFeatures, channels, -1), 0);
        var p = Normalize(prototypes, 1);
        var d = F.MulScalar(F.MatMul(p, q), CosineScale);
        return F.Sum(F.Mul(F.Softmax(d, 0), d), [0]);
    }
}
