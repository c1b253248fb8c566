using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Batch norm over contiguous x [N, C, S]. Per-channel sums take one group per channel (tree order fixed by
// N·S and the group size); the per-element parts are plain maps.
internal sealed partial class IlgpuKernels
{
    /// <summary>Shape and offsets of one batch-norm launch; a null weight or bias has Has* 0 (kernel arguments cannot be bool).</summary>
    internal readonly record struct BatchNormArgs(int N, int C, int S, int XOffset, int MeanOffset, int InvStdOffset,
        int HasWeight, int WeightOffset, int WeightStride, int HasBias, int BiasOffset, int BiasStride);

    private static BatchNormArgs BnArgs(Tensor x, Tensor mean, Tensor invStd, Tensor? weight, Tensor? bias) =>
        new(x.Shape[0], x.Shape[1], x.Shape[2], x.Offset, mean.Offset, invStd.Offset,
            weight != null ? 1 : 0, weight?.Offset ?? 0, weight?.Strides[0] ?? 0, bias != null ? 1 : 0, bias?.Offset ?? 0, bias?.Strides[0] ?? 0);

    /// <summary>Index of element e (of N·S) of channel ch in [N, C, S].</summary>
    private static int BnIndex(int e, int c, int s, int ch) => (e / s * c + ch) * s + e % s;

    public void BatchNormStats(Tensor x, Tensor mean, Tensor variance)
    {
        CheckDevice(x, mean, variance);
        if (IsFloat(x)) BatchNormStats<float, Real32>(x, mean, variance);
        else BatchNormStats<double, Real64>(x, mean, variance);
    }

    private void BatchNormStats<T, R>(Tensor x, Tensor mean, Tensor variance) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (x.Shape[1] == 0) return;
        var kernel = device.Kernel(BnStatsKernel<T, R>, d => d.LoadStreamKernel<BatchNormArgs, ArrayView<T>, ArrayView<T>, ArrayView<T>, int>(BnStatsKernel<T, R>));
        kernel(Rows<T>(x.Shape[1]), BnArgs(x, mean, mean, null, null), View<T>(x), View<T>(mean), View<T>(variance), variance.Offset);
    }

    private static void BnStatsKernel<T, R>(BatchNormArgs a, ArrayView<T> x, ArrayView<T> mean, ArrayView<T> variance, int varianceOffset)
        where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        var part = SharedMemory.GetDynamic<T>();
        int ch = Grid.IdxX, t = Group.IdxX, count = a.N * a.S;
        T sum = T.Zero;
        for (int e = t; e < count; e += Group.DimX) sum += x[a.XOffset + BnIndex(e, a.C, a.S, ch)];
        T m = GroupSum(part, sum) / R.Of(count);
        T squares = T.Zero;
        for (int e = t; e < count; e += Group.DimX)
        {
            T d = x[a.XOffset + BnIndex(e, a.C, a.S, ch)] - m;
            squares += d * d;
        }
        squares = GroupSum(part, squares);
        if (t == 0)
        {
            mean[a.MeanOffset + ch] = m;
            variance[varianceOffset + ch] = squares / R.Of(count);
        }
    }

    public void BatchNormForward(Tensor x, Tensor mean, Tensor invStd, Tensor? weight, Tensor? bias, Tensor y, bool relu)
    {
        CheckDevice(x, mean, invStd, weight, bias, y);
        if (IsFloat(x)) BatchNormForward<float>(x, mean, invStd, weight, bias, y, relu);
        else BatchNormForward<double>(x, mean, invStd, weight, bias, y, relu);
    }

    private void BatchNormForward<T>(Tensor x, Tensor mean, Tensor invStd, Tensor? weight, Tensor? bias, Tensor y, bool relu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Count == 0) return;
        var kernel = device.Kernel(BnForwardKernel<T>,
            d => d.LoadAutoGroupedStreamKernel<Index1D, BatchNormArgs, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int>(BnForwardKernel<T>));
        kernel(x.Count, BnArgs(x, mean, invStd, weight, bias), View<T>(x), View<T>(mean), View<T>(invStd),
            OptionalView<T>(weight, x), OptionalView<T>(bias, x), View<T>(y), y.Offset, relu ? 1 : 0);
    }

    // y = (x − mean[c]) · invStd[c] · weight[c] + bias[c], then ReLU when fused (NaN stays NaN, as ApplyUnary's Relu).
    private static void BnForwardKernel<T>(Index1D i, BatchNormArgs a, ArrayView<T> x, ArrayView<T> mean, ArrayView<T> invStd,
        ArrayView<T> weight, ArrayView<T> bias, ArrayView<T> y, int yOffset, int relu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int ch = i / a.S % a.C;
        T scale = invStd[a.InvStdOffset + ch] * (a.HasWeight != 0 ? weight[a.WeightOffset + ch * a.WeightStride] : T.One);
        T shift = a.HasBias != 0 ? bias[a.BiasOffset + ch * a.BiasStride] : T.Zero;
        T v = (x[a.XOffset + i] - mean[a.MeanOffset + ch]) * scale + shift;
        y[yOffset + i] = relu == 0 ? v : ApplyUnary((int)UnaryOp.Relu, v, T.Zero, T.Zero);
    }

    /// <summary>dy times ReLU's backward factor (1 or 0, by the fused forward's output) when fused, else dy.</summary>
    private static T GatedDy<T>(ArrayView<T> dy, ArrayView<T> reluOutput, GradOffsets o, int i) where T : unmanaged, IFloatingPointIeee754<T> =>
        o.HasRelu != 0 ? dy[o.Dy + i] * ApplyUnary((int)UnaryOp.Step, reluOutput[o.Relu + i], T.Zero, T.Zero) : dy[o.Dy + i];

    public void BatchNormBackward(Tensor x, Tensor dy, Tensor mean, Tensor invStd, Tensor? weight, bool batchStatistics, Tensor dx, Tensor dweight, Tensor dbias,
        Tensor? reluOutput)
    {
        CheckDevice(x, dy, mean, invStd, weight, dx, dweight, dbias, reluOutput);
        if (IsFloat(x)) BatchNormBackward<float, Real32>(x, dy, mean, invStd, weight, batchStatistics, dx, dweight, dbias, reluOutput);
        else BatchNormBackward<double, Real64>(x, dy, mean, invStd, weight, batchStatistics, dx, dweight, dbias, reluOutput);
    }

    /// <summary>Offsets of dy, dweight, dbias, dx and the fused ReLU's output (HasRelu 1 when fused).</summary>
    internal readonly record struct GradOffsets(int Dy, int DWeight, int DBias, int Dx, int HasRelu, int Relu);

    private void BatchNormBackward<T, R>(Tensor x, Tensor dy, Tensor mean, Tensor invStd, Tensor? weight, bool batchStatistics, Tensor dx, Tensor dweight, Tensor dbias,
        Tensor? reluOutput) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (x.Shape[1] == 0) return;
        var a = BnArgs(x, mean, invStd, weight, null);
        var o = new GradOffsets(dy.Offset, dweight.Offset, dbias.Offset, dx.Offset, reluOutput != null ? 1 : 0, reluOutput?.Offset ?? 0);
        var relu = OptionalView<T>(reluOutput, dy);
        var sums = device.Kernel(BnBackwardSumsKernel<T>,
            d => d.LoadStreamKernel<BatchNormArgs, GradOffsets, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>>(BnBackwardSumsKernel<T>));
        sums(Rows<T>(x.Shape[1]), a, o, View<T>(x), View<T>(dy), relu, View<T>(mean), View<T>(invStd), View<T>(dweight), View<T>(dbias));
        if (x.Count == 0) return;
        var dxKernel = device.Kernel(BnBackwardDxKernel<T, R>,
            d => d.LoadAutoGroupedStreamKernel<Index1D, BatchNormArgs, GradOffsets, int, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>>(BnBackwardDxKernel<T, R>));
        dxKernel(x.Count, a, o, batchStatistics ? 1 : 0, View<T>(x), View<T>(dy), relu, View<T>(mean), View<T>(invStd), OptionalView<T>(weight, x),
            View<T>(dweight), View<T>(dbias), View<T>(dx));
    }

    // dbias[c] = Σ dy, dweight[c] = Σ dy·x̂.
    private static void BnBackwardSumsKernel<T>(BatchNormArgs a, GradOffsets o, ArrayView<T> x, ArrayView<T> dy, ArrayView<T> reluOutput, ArrayView<T> mean, ArrayView<T> invStd,
        ArrayView<T> dweight, ArrayView<T> dbias) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var part = SharedMemory.GetDynamic<T>();
        int ch = Grid.IdxX, t = Group.IdxX, count = a.N * a.S;
        T m = mean[a.MeanOffset + ch], istd = invStd[a.InvStdOffset + ch];
        T sumDy = T.Zero, sumDyXhat = T.Zero;
        for (int e = t; e < count; e += Group.DimX)
        {
            int i = BnIndex(e, a.C, a.S, ch);
            T g = GatedDy(dy, reluOutput, o, i);
            sumDy += g;
            sumDyXhat += g * (x[a.XOffset + i] - m) * istd;
        }
        sumDy = GroupSum(part, sumDy);
        sumDyXhat = GroupSum(part, sumDyXhat);
        if (t == 0)
        {
            dbias[o.DBias + ch] = sumDy;
            dweight[o.DWeight + ch] = sumDyXhat;
        }
    }

    // With batch statistics dx = w·istd·(dy − mean(dy) − x̂·mean(dy·x̂)); with running statistics dx = w·istd·dy.
    private static void BnBackwardDxKernel<T, R>(Index1D i, BatchNormArgs a, GradOffsets o, int batchStatistics, ArrayView<T> x, ArrayView<T> dy,
        ArrayView<T> reluOutput, ArrayView<T> mean, ArrayView<T> invStd, ArrayView<T> weight, ArrayView<T> dweight, ArrayView<T> dbias, ArrayView<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        int ch = i / a.S % a.C;
        T total = R.Of(a.N * a.S);
        T istd = invStd[a.InvStdOffset + ch], w = a.HasWeight != 0 ? weight[a.WeightOffset + ch * a.WeightStride] : T.One;
        T meanDy = batchStatistics != 0 ? dbias[o.DBias + ch] / total : T.Zero;
        T meanDyXhat = batchStatistics != 0 ? dweight[o.DWeight + ch] / total : T.Zero;
        T xhat = (x[a.XOffset + i] - mean[a.MeanOffset + ch]) * istd;
        dx[o.Dx + i] = w * istd * (GatedDy(dy, reluOutput, o, i) - meanDy - xhat * meanDyXhat);
    }
}
