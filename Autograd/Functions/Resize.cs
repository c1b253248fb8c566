using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    /// <summary>Bilinear interpolation to a size (torch.nn.functional.interpolate, mode='bilinear').</summary>
    public static Variable Interpolate(Variable x, int outH, int outW, bool alignCorners) =>
        Tape.Record("interpolate", Ops.ResizeBilinear(x.Data, outH, outW, alignCorners), [x],
            dy => [Ops.ResizeBilinearBackward(dy, x.Shape, alignCorners)]);
}
