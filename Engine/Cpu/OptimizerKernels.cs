using System.Numerics;

namespace IlgpuSeg.Engine;

// SGD in one pass over parameter, gradient and momentum instead of seven tensor ops; each rounding is the
// one the separate ops (MulScalar, Add, Sub) made, so results are bitwise the same as before the fusion.
internal sealed partial class CpuKernels
{
    public void SgdStep(Tensor parameter, Tensor grad, Tensor momentumBuffer, SgdStepArgs args)
    {
        if (parameter.DType == DType.Float32) SgdStep<float>(parameter, grad, momentumBuffer, args);
        else SgdStep<double>(parameter, grad, momentumBuffer, args);
    }

    private static void SgdStep<T>(Tensor parameter, Tensor grad, Tensor momentumBuffer, SgdStepArgs args) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = Data<T>(parameter).AsSpan(parameter.Offset, parameter.Count);
        var g = Data<T>(grad).AsSpan(grad.Offset, grad.Count);
        var b = Data<T>(momentumBuffer).AsSpan(momentumBuffer.Offset, momentumBuffer.Count);
        T lr = Cast<T>(args.LearningRate), mu = Cast<T>(args.Momentum), wd = Cast<T>(args.WeightDecay);
        bool decay = args.WeightDecay != 0, momentum = args.Momentum != 0, first = args.FirstStep;
        for (int i = 0; i < p.Length; i++)
        {
            T d = decay ? g[i] + p[i] * wd : g[i];
            if (momentum) d = b[i] = first ? d : b[i] * mu + d;
            p[i] -= d * lr;
        }
    }
}
