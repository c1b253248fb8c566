namespace IlgpuSeg.Data;

/// <summary>The scl_slope / scl_inter rule: a slope of 0 or a non-finite slope means "no scaling".</summary>
public static class NiftiScaling
{
    public static bool HasScaling(NiftiHeader h) => h.SclSlope != 0 && float.IsFinite(h.SclSlope);

    /// <summary>Slope and intercept to apply (1 and 0 when the header says there is no scaling).</summary>
    public static (double Slope, double Inter) Get(NiftiHeader h) =>
        HasScaling(h) ? (h.SclSlope, h.SclInter) : (1.0, 0.0);
}
