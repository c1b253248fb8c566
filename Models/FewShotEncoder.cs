using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>Which features the few-shot encoder returns (METHODS §1).</summary>
public enum FeatureHead
{
    /// <summary>SSL-ALPNet's: a 1×1 conv 2048 → 256 without bias, nothing after it.</summary>
    Reduce,
    /// <summary>DeepLabv3's ASPP (torchvision's DeepLabHead first block), named classifier.0.</summary>
    Aspp,
    /// <summary>The raw layer4 features.</summary>
    Backbone,
}

/// <summary>
/// The few-shot encoder: a ResNet trunk with output stride 8 and one feature head. State-dict names are
/// torchvision's (backbone.*, classifier.0.*), so a deeplabv3_resnet101 checkpoint loads into it with the
/// rest of its classifier reported as unexpected.
/// </summary>
public sealed class FewShotEncoder : Layer
{
    private readonly Layer? _head;

    public FewShotEncoder(ResNetConfig config, FeatureHead head, Generator init, int features = 256, DType dtype = DType.Float32, Accelerator? acc = null)
    {
        Head = head;
        Backbone = RegisterModule("backbone", new ResNet(config, init, dtype, acc));
        _head = head switch
        {
            FeatureHead.Reduce => RegisterModule("reduce", new Conv2d(config.OutChannels, features, 1, init, dtype: dtype, accelerator: acc)),
            FeatureHead.Aspp => RegisterModule("classifier", new Sequential(new Aspp(config.OutChannels, [12, 24, 36], features, init, dtype, acc))),
            _ => null,
        };
        FeatureChannels = head == FeatureHead.Backbone ? config.OutChannels : features;
    }

    public FeatureHead Head { get; }

    public ResNet Backbone { get; }

    public int FeatureChannels { get; }

    /// <summary>Features [N, FeatureChannels, H/8, W/8] of images [N, 3, H, W].</summary>
    public override Variable Forward(Variable x)
    {
        var features = Backbone.Forward(x);
        return _head?.Forward(features) ?? features;
    }
}
