namespace IlgpuSeg.Engine;

public static partial class Ops
{
    /// <summary>
    /// One in-place SGD step on a parameter (see <see cref="IKernels.SgdStep"/>); <paramref name="momentumBuffer"/> is
    /// read unless <see cref="SgdStepArgs.FirstStep"/> and written when the momentum is not 0.
    /// </summary>
    public static void SgdStep(Tensor parameter, Tensor grad, Tensor momentumBuffer, SgdStepArgs args)
    {
        using var _ = OpProfiler.Scope(OpFamily.Optimizer);
        foreach (var (t, name) in new[] { (grad, "gradient"), (momentumBuffer, "momentum buffer") })
        {
            if (!t.Shape.SequenceEqual(parameter.Shape) || t.DType != parameter.DType || t.Accelerator != parameter.Accelerator)
                throw new ShapeException($"sgd_step: {name} {t} does not match parameter {parameter}");
            if (!t.IsContiguous) throw new ShapeException($"sgd_step: {name} {t.ShapeString} is not contiguous");
        }
        if (!parameter.IsContiguous) throw new ShapeException($"sgd_step: parameter {parameter.ShapeString} is not contiguous");
        parameter.Accelerator.Kernels.SgdStep(parameter, grad, momentumBuffer, args);
    }
}
