using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>torchvision's two residual blocks: BasicBlock (two 3×3, ResNet-18/34) and Bottleneck (1×1-3×3-1×1, ResNet-50 and up).</summary>
public enum ResNetBlock
{
    Bottleneck,
    Basic,
}

/// <summary>
/// ResNet shape: blocks per stage, which stages trade stride for dilation, a width multiplier (1 = the
/// paper's; 1/8 gives a CPU-sized network with the same structure) and the block type. Defaults: ResNet-101, output stride 8.
/// </summary>
public sealed record ResNetConfig(int[] Layers, bool[] ReplaceStrideWithDilation, double Width = 1.0, ResNetBlock Block = ResNetBlock.Bottleneck)
{
    public static ResNetConfig ResNet101Os8 => new([3, 4, 23, 3], [false, true, true]);

    public static ResNetConfig ResNet50Os8 => new([3, 4, 6, 3], [false, true, true]);

    public int StemChannels => Scaled(64);

    /// <summary>Block width ("planes") of stage i; outputs are <see cref="Expansion"/>× that.</summary>
    public int Planes(int stage) => Scaled(64 << stage);

    public int Expansion => Block == ResNetBlock.Bottleneck ? Bottleneck.Expansion : 1;

    public int OutChannels => Planes(3) * Expansion;

    private int Scaled(int channels) => Math.Max(1, (int)Math.Round(channels * Width));
}

/// <summary>torchvision's v1.5 Bottleneck: 1×1 → 3×3 (carrying the stride and dilation) → 1×1, plus the shortcut.</summary>
public sealed class Bottleneck : Layer
{
    public const int Expansion = 4;

    private readonly Conv2d _conv1, _conv2, _conv3;
    private readonly BatchNorm2d _bn1, _bn2, _bn3;
    private readonly Sequential? _downsample;

    public Bottleneck(int inPlanes, int planes, int stride, int dilation, bool downsample, Generator init, DType dtype, Accelerator? acc)
    {
        _conv1 = RegisterModule("conv1", new Conv2d(inPlanes, planes, 1, init, dtype: dtype, accelerator: acc));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(planes, dtype: dtype, accelerator: acc));
        _conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, init, stride, dilation, dilation, dtype: dtype, accelerator: acc));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(planes, dtype: dtype, accelerator: acc));
        _conv3 = RegisterModule("conv3", new Conv2d(planes, planes * Expansion, 1, init, dtype: dtype, accelerator: acc));
        _bn3 = RegisterModule("bn3", new BatchNorm2d(planes * Expansion, dtype: dtype, accelerator: acc));
        if (downsample)
            _downsample = RegisterModule("downsample", new Sequential(
                new Conv2d(inPlanes, planes * Expansion, 1, init, stride, dtype: dtype, accelerator: acc),
                new BatchNorm2d(planes * Expansion, dtype: dtype, accelerator: acc)));
    }

    public override Variable Forward(Variable x)
    {
        // bn1 → conv2 and bn2 → conv3 each as one op: backward recomputes the ReLU outputs instead of keeping them.
        var y = _bn1.ForwardReluConv(_conv1.Forward(x), _conv2);
        y = _bn2.ForwardReluConv(y, _conv3);
        var identity = _downsample?.Forward(x) ?? x;
        return ResNet.AddShortcut(_bn3, y, identity, _downsample != null);
    }
}

/// <summary>
/// torchvision's BasicBlock: 3×3 (carrying the stride) → 3×3, plus the shortcut. torchvision refuses dilation here;
/// dilated ports (PSPNet, DeepLab) give conv1 the incoming dilation and conv2 the stage's, as torchvision does for
/// the Bottleneck's strided conv, so every conv samples the same pixels as the strided net did.
/// </summary>
public sealed class BasicBlock : Layer
{
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly Sequential? _downsample;

    public BasicBlock(int inPlanes, int planes, int stride, int firstDilation, int dilation, bool downsample, Generator init, DType dtype, Accelerator? acc)
    {
        _conv1 = RegisterModule("conv1", new Conv2d(inPlanes, planes, 3, init, stride, firstDilation, firstDilation, dtype: dtype, accelerator: acc));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(planes, dtype: dtype, accelerator: acc));
        _conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, init, 1, dilation, dilation, dtype: dtype, accelerator: acc));
        _bn2 = RegisterModule("bn2", new BatchNorm2d(planes, dtype: dtype, accelerator: acc));
        if (downsample)
            _downsample = RegisterModule("downsample", new Sequential(
                new Conv2d(inPlanes, planes, 1, init, stride, dtype: dtype, accelerator: acc),
                new BatchNorm2d(planes, dtype: dtype, accelerator: acc)));
    }

    public override Variable Forward(Variable x)
    {
        var y = _bn1.ForwardReluConv(_conv1.Forward(x), _conv2);
        var identity = _downsample?.Forward(x) ?? x;
        return ResNet.AddShortcut(_bn2, y, identity, _downsample != null);
    }
}

/// <summary>
/// torchvision's ResNet trunk without the classifier (conv1, bn1, maxpool, layer1..4), the backbone
/// DeepLabv3 keeps (Bottleneck) or ResNet-18/34's (BasicBlock). State-dict names match torchvision's.
/// </summary>
public sealed class ResNet : Layer
{
    private readonly Conv2d _conv1;
    private readonly BatchNorm2d _bn1;
    private readonly Sequential[] _stages = new Sequential[4];

    public ResNet(ResNetConfig config, Generator init, DType dtype = DType.Float32, Accelerator? acc = null)
    {
        if (config.Layers.Length != 4 || config.ReplaceStrideWithDilation.Length != 3)
            throw new ArgumentException("ResNet needs 4 stage depths and 3 replace-stride-with-dilation flags");
        Config = config;
        _conv1 = RegisterModule("conv1", new Conv2d(3, config.StemChannels, 7, init, 2, 3, dtype: dtype, accelerator: acc));
        _bn1 = RegisterModule("bn1", new BatchNorm2d(config.StemChannels, dtype: dtype, accelerator: acc));
        int inPlanes = config.StemChannels, dilation = 1;
        for (int stage = 0; stage < 4; stage++)
        {
            int planes = config.Planes(stage), stride = stage == 0 ? 1 : 2;
            // As torchvision's _make_layer: a dilated stage's first block keeps the previous dilation.
            int previousDilation = dilation;
            if (stage > 0 && config.ReplaceStrideWithDilation[stage - 1])
            {
                dilation *= stride;
                stride = 1;
            }
            var blocks = new Sequential();
            blocks.Add(Block(config.Block, inPlanes, planes, stride, previousDilation, dilation, stride != 1 || inPlanes != planes * config.Expansion, init, dtype, acc));
            inPlanes = planes * config.Expansion;
            for (int b = 1; b < config.Layers[stage]; b++)
                blocks.Add(Block(config.Block, inPlanes, planes, 1, dilation, dilation, false, init, dtype, acc));
            _stages[stage] = RegisterModule($"layer{stage + 1}", blocks);
        }
    }

    /// <summary>One block; <paramref name="firstDilation"/> is the dilation of the conv that carries (or carried) the stride.</summary>
    private static Layer Block(ResNetBlock block, int inPlanes, int planes, int stride, int firstDilation, int dilation, bool downsample, Generator init, DType dtype, Accelerator? acc) =>
        block == ResNetBlock.Bottleneck
            ? new Bottleneck(inPlanes, planes, stride, firstDilation, downsample, init, dtype, acc)
            : new BasicBlock(inPlanes, planes, stride, firstDilation, dilation, downsample, init, dtype, acc);

    public ResNetConfig Config { get; }

    /// <summary>
    /// A block's last norm with its shortcut: ReLU(bn(y) + identity). A downsample branch's output goes back to the pool
    /// at once (while inside a tensor scope): the add-ReLU's backward gates by its own output and the downsample norm's
    /// backward reads that norm's input, so nothing reads it again, and it would otherwise be held until backward.
    /// </summary>
    internal static Variable AddShortcut(BatchNorm2d bn, Variable y, Variable identity, bool downsampled)
    {
        var output = bn.ForwardAddRelu(y, identity);
        if (downsampled && TensorScope.Current is { } scope && scope.Owns(identity.Data)) scope.Release(identity.Data);
        return output;
    }

    public override Variable Forward(Variable x) => Forward(x, out _);

    /// <summary>The layer4 features; <paramref name="layer3"/> receives layer3's (DeepLabv3's aux input).</summary>
    public Variable Forward(Variable x, out Variable layer3)
    {
        x = F.MaxPool2d(_bn1.ForwardRelu(_conv1.Forward(x)), 3, 2, 1);
        x = _stages[0].Forward(x);
        x = _stages[1].Forward(x);
        layer3 = _stages[2].Forward(x);
        return _stages[3].Forward(layer3);
    }
}
