using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>
/// torchvision's ASPP: a 1×1 branch, three 3×3 dilated branches, image pooling; each conv + BN + ReLU;
/// concatenated and projected by 1×1 conv + BN + ReLU + dropout. Names: convs.N..., project.N...
/// </summary>
public sealed class Aspp : Layer
{
    private readonly List<Sequential> _branches = [];
    private readonly Sequential _project;

    /// <param name="init">Initialises the weights and afterwards draws the dropout masks.</param>
    public Aspp(int inChannels, int[] rates, int outChannels, Generator init, DType dtype = DType.Float32, Accelerator? acc = null)
    {
        var convs = RegisterModule("convs", new ModuleList());
        Sequential Branch(int kernel, int dilation) => new(
            new Conv2d(inChannels, outChannels, kernel, init, 1, kernel == 1 ? 0 : dilation, dilation, dtype: dtype, accelerator: acc),
            new BatchNorm2d(outChannels, dtype: dtype, accelerator: acc), new ReLU());
        _branches.Add(convs.Add(Branch(1, 1)));
        foreach (var rate in rates) _branches.Add(convs.Add(Branch(3, rate)));
        _branches.Add(convs.Add(new Sequential(new AdaptiveAvgPool2d(1, 1),
            new Conv2d(inChannels, outChannels, 1, init, dtype: dtype, accelerator: acc),
            new BatchNorm2d(outChannels, dtype: dtype, accelerator: acc), new ReLU())));
        _project = RegisterModule("project", new Sequential(
            new Conv2d(outChannels * _branches.Count, outChannels, 1, init, dtype: dtype, accelerator: acc),
            new BatchNorm2d(outChannels, dtype: dtype, accelerator: acc), new ReLU(), new Dropout(0.5, init)));
    }

    public override Variable Forward(Variable x)
    {
        int h = x.Shape[2], w = x.Shape[3];
        var outputs = new List<Variable>();
        for (int i = 0; i < _branches.Count; i++)
        {
            var y = _branches[i].Forward(x);
            // The image-pooling branch is broadcast back by bilinear resize, as torchvision's ASPPPooling.
            outputs.Add(i == _branches.Count - 1 ? F.Interpolate(y, h, w, alignCorners: false) : y);
        }
        return _project.Forward(F.Concat(outputs, 1));
    }
}

/// <summary>torch.nn.ModuleList: children named "0", "1", ... with no forward of their own.</summary>
public sealed class ModuleList : Module
{
    private int _count;

    public T Add<T>(T module) where T : Module => RegisterModule((_count++).ToString(System.Globalization.CultureInfo.InvariantCulture), module);
}

/// <summary>
/// torchvision's deeplabv3_resnet* (without aux classifier): backbone (ResNet trunk) and classifier =
/// [ASPP(2048 → 256, rates 12/24/36), 3×3 conv, BN, ReLU, 1×1 conv to classes]. Exists so that torchvision
/// checkpoints load with strict key matching; the few-shot encoder uses its backbone and classifier.0.
/// </summary>
public sealed class DeepLabV3 : Layer
{
    public DeepLabV3(ResNetConfig config, int numClasses, Generator init, DType dtype = DType.Float32, Accelerator? acc = null)
    {
        Backbone = RegisterModule("backbone", new ResNet(config, init, dtype, acc));
        int features = Math.Max(1, (int)Math.Round(256 * config.Width));
        Classifier = RegisterModule("classifier", new Sequential(
            new Aspp(config.OutChannels, [12, 24, 36], features, init, dtype, acc),
            new Conv2d(features, features, 3, init, 1, 1, dtype: dtype, accelerator: acc),
            new BatchNorm2d(features, dtype: dtype, accelerator: acc), new ReLU(),
            new Conv2d(features, numClasses, 1, init, bias: true, dtype: dtype, accelerator: acc)));
    }

    public ResNet Backbone { get; }

    public Sequential Classifier { get; }

    /// <summary>Class logits upsampled to the input size (bilinear, align_corners = false), as torchvision.</summary>
    public override Variable Forward(Variable x) =>
        F.Interpolate(Classifier.Forward(Backbone.Forward(x)), x.Shape[2], x.Shape[3], alignCorners: false);
}
