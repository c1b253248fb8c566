using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>The ALPNet head's constants (PROTOCOL §2.2), configurable.</summary>
public sealed record AlpConfig(int TrainWindow = 4, int TestWindow = 2, double Threshold = 0.95, int FgCheckWindow = 4)
{
    public static AlpConfig Default => new();
}

/// <summary>Why a head could not produce a prediction; the trainer counts and reports these.</summary>
public sealed class EmptyPrototypeSetException(string message) : Exception(message);

/// <summary>
/// SSL-ALPNet's adaptive local prototype head. Background: local prototypes only. Foreground: local plus
/// the global prototype when some FgCheckWindow×FgCheckWindow cell is ≥ threshold foreground, else the
/// global prototype alone. Logits [1, 2, h, w] (bg, fg) at feature resolution; the caller upsamples.
/// </summary>
public sealed class AlpHead(AlpConfig config)
{
    public AlpConfig Config { get; } = config;

    /// <summary>The prototypes of one class built from features and a grid mask.</summary>
    public sealed record ClassPrototypes(Variable Prototypes, bool UsesLocal);

    /// <summary>Background prototypes: local cells of the background mask.</summary>
    public ClassPrototypes Background(Variable features, Tensor bgGrid, bool training) =>
        new(Prototypes.Local(features, bgGrid, Window(training), Config.Threshold)
            ?? throw new EmptyPrototypeSetException("no background cell is covered above the threshold"), true);

    /// <summary>Foreground prototypes: local + global ("gridconv+") when the mask has a fully covered cell, else global only ("mask").</summary>
    public ClassPrototypes Foreground(Variable features, Tensor fgGrid, bool training)
    {
        var global = Prototypes.Global(features, fgGrid);
        double best = Ops.Max(Ops.AvgPool2d(fgGrid, new Pool2dGeometry(Config.FgCheckWindow, Config.FgCheckWindow, 0)).Reshape(-1), 0).Values.Item();
        if (best < Config.Threshold) return new(global, false);
        var local = Prototypes.Local(features, fgGrid, Window(training), Config.Threshold);
        return new(local == null ? global : F.Concat([local, global], 0), local != null);
    }

    /// <summary>Logits [1, 2, h, w] of the query from background and foreground prototypes.</summary>
    public static Variable Logits(ClassPrototypes bg, ClassPrototypes fg, Variable queryFeatures)
    {
        int h = queryFeatures.Shape[2], w = queryFeatures.Shape[3];
        var scores = F.Stack([Prototypes.Score(bg.Prototypes, queryFeatures), Prototypes.Score(fg.Prototypes, queryFeatures)], 0);
        return F.Reshape(scores, 1, 2, h, w);
    }

    /// <summary>Segments the query from a support image's features and its [1, 1, H, W] foreground mask.</summary>
    public Variable Forward(Variable supportFeatures, Tensor supportMask, Variable queryFeatures, bool training)
    {
        var (fgGrid, bgGrid) = Grids(supportMask, supportFeatures.Shape[2], supportFeatures.Shape[3]);
        return Logits(Background(supportFeatures, bgGrid, training), Foreground(supportFeatures, fgGrid, training), queryFeatures);
    }

    /// <summary>Foreground and background masks on the feature grid.</summary>
    public static (Tensor Fg, Tensor Bg) Grids(Tensor mask, int h, int w)
    {
        var fg = Prototypes.MaskToGrid(mask, h, w);
        return (fg, Ops.AddScalar(Ops.Neg(fg), 1));
    }

    private int Window(bool training) => training ? Config.TrainWindow : Config.TestWindow;
}
