using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>Which features the few-shot encoder returns (METHODS §1).</summary>
public enum FeatureHead
{
    /// <summary>SSL-ALPNet's: a 1×1 conv 2048 (BasicBlocks: 512) → 256 without bias, nothing after it.</summary>
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

    /// <summary>
    /// Runs the ResNet's batch norm in eval mode even while training (running statistics used and kept, γ and β still
    /// learnt), as fine-tuning a pretrained encoder on batches of two usually does. Checked at every forward, because
    /// heads switch their children's mode themselves.
    /// </summary>
    public bool FreezeBatchNorm { get; set; }

    /// <summary>
    /// Features of a support and a query image [1, 3, H, W] each, computed as one batch so batch norm sees both
    /// (as the reference few-shot models do).
    /// </summary>
    public (Variable Support, Variable Query) EncodePair(Tensor supportImage, Tensor queryImage)
    {
        var both = Forward(new Variable(Ops.Concat([supportImage, queryImage], 0)));
        return (F.Narrow(both, 0, 0, 1), F.Narrow(both, 0, 1, 1));
    }

    /// <summary>Features [N, FeatureChannels, H/8, W/8] of images [N, 3, H, W].</summary>
    public override Variable Forward(Variable x)
    {
        if (FreezeBatchNorm) Backbone.Eval();
        var features = Backbone.Forward(x);
        return _head?.Forward(features) ?? features;
    }
}

/// <summary>Builds a few-shot encoder whose shape fits a checkpoint, so users need not restate depth and width.</summary>
public static class EncoderCheckpoint
{
    /// <summary>
    /// Reads the block type, stage depths, width and head size from the state-dict names and shapes (output stride 8 is
    /// assumed, as in METHODS §1), then loads it. A bare torchvision ResNet checkpoint (conv1.*, layer1.*, fc.*)
    /// is accepted as the backbone. Throws <see cref="StateDictMismatchException"/> naming what is missing.
    /// </summary>
    public static (FewShotEncoder Encoder, LoadReport Report) Load(IReadOnlyDictionary<string, Tensor> stateDict, FeatureHead head, Generator init)
    {
        if (!stateDict.ContainsKey("backbone.conv1.weight") && stateDict.ContainsKey("conv1.weight"))
            stateDict = stateDict.Where(kv => !kv.Key.StartsWith("fc.", StringComparison.Ordinal)).ToDictionary(kv => "backbone." + kv.Key, kv => kv.Value);
        if (!stateDict.TryGetValue("backbone.conv1.weight", out var stem))
            throw new StateDictMismatchException("checkpoint has no backbone.conv1.weight: not a ResNet / DeepLabv3 state dict");
        var layers = new int[4];
        for (int stage = 0; stage < 4; stage++)
        {
            string prefix = $"backbone.layer{stage + 1}.";
            layers[stage] = stateDict.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
                .Select(k => int.Parse(k.AsSpan(prefix.Length, k.IndexOf('.', prefix.Length) - prefix.Length), System.Globalization.CultureInfo.InvariantCulture))
                .DefaultIfEmpty(-1).Max() + 1;
            if (layers[stage] == 0) throw new StateDictMismatchException($"checkpoint has no {prefix}* keys");
        }
        var block = stateDict.ContainsKey("backbone.layer1.0.conv3.weight") ? ResNetBlock.Bottleneck : ResNetBlock.Basic;
        var config = new ResNetConfig(layers, [false, true, true], stem.Shape[0] / 64.0, block);
        string featureKey = head == FeatureHead.Aspp ? "classifier.0.project.0.weight" : "reduce.weight";
        int features = 256;
        if (head != FeatureHead.Backbone)
        {
            if (!stateDict.TryGetValue(featureKey, out var headWeight))
                throw new StateDictMismatchException($"checkpoint has no {featureKey}: it holds no {head.ToString().ToLowerInvariant()} head");
            features = headWeight.Shape[0];
        }
        var encoder = new FewShotEncoder(config, head, init, features);
        var report = encoder.LoadStateDict(stateDict, strict: false);
        if (report.Missing.Count > 0 || report.ShapeMismatches.Count > 0)
            throw new StateDictMismatchException($"checkpoint does not fit a {string.Join("-", layers)} {block} ResNet at width {config.Width} with a {head} head: {report}");
        return (encoder, report);
    }
}
