using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    /// <summary>
    /// One DDPM reverse step p_t → p_{t−1} through p̂0 as one fused op (METHODS §3). The noise z (null at the last
    /// step) is a constant; gradients go to p_t and ε̂.
    /// </summary>
    public static Variable DiffusionReverseStep(Variable pt, Variable epsHat, Tensor? z, DiffusionStep step) =>
        Tape.Record("diffusion_reverse_step", Ops.DiffusionReverseStep(pt.Data, epsHat.Data, z, step), [pt, epsHat], dy =>
        {
            var (dpt, deps) = Ops.DiffusionReverseStepBackward(dy, step);
            return [dpt, deps];
        });
}
