using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Google.Protobuf;
using IlgpuSeg.Engine;
using Onnx;

namespace IlgpuSeg.Cli.Pretrained;

/// <summary>
/// Reads the trunk of a BasicBlock ResNet (ResNet-18/34 layout, any depth per stage) from an ONNX graph into
/// torchvision's state-dict names (conv1, bn1, layerN.M.conv1/bn1/conv2/bn2, layerN.0.downsample.0/1). Names come
/// from walking the graph, never from the exporter's parameter numbers: stem conv → BN → ReLU → max pool, then
/// blocks whose Add closes them; a block with a 1×1 shortcut conv opens the next stage.
/// </summary>
public static class OnnxResNet
{
    /// <summary>ImageNet's per-channel standard deviation (R, G, B) on the 0–1 scale, as torchvision normalises.</summary>
    private static readonly double[] ImageNetStd = [0.229, 0.224, 0.225];

    /// <summary>
    /// Reads an ONNX ResNet whose input is BGR, 0–255, minus the channel means (the ML.NET DnnImageFeaturizer models),
    /// checks its SHA-256 when <paramref name="expectedSha256"/> is given, and returns its backbone state dict with
    /// that input convention folded into conv1 (see <see cref="FoldInputConvention"/>). Anything wrong is a
    /// <see cref="CheckpointFormatException"/> naming the file.
    /// </summary>
    public static (Dictionary<string, Tensor> State, string Sha256) Read(string path, string? expectedSha256 = null)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException($"{path}: cannot read: {e.Message}");
        }
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (expectedSha256 != null)
        {
            if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
                throw new CheckpointFormatException($"{path}: SHA-256 is {actual}, expected {expectedSha256.ToLowerInvariant()} (a different or damaged file)");
        }
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw new CheckpointFormatException($"{path}: not a readable ONNX model (truncated or corrupt): {e.Message}");
        }
        var state = new GraphWalk(model.Graph, path).BackboneStateDict();
        FoldInputConvention(state);
        return (state, actual);
    }

    /// <summary>Safetensors metadata of a converted file: where it came from and what input it takes.</summary>
    public static Dictionary<string, string> Metadata(string onnxPath, string sha256) => new()
    {
        ["source"] = Path.GetFileName(onnxPath),
        ["source_sha256"] = sha256,
        ["input"] = "RGB, torchvision normalisation (x/255 - mean)/std, std = (0.229, 0.224, 0.225), mean = the ONNX model's own",
    };

    /// <summary>
    /// Makes conv1 take torchvision's input, RGB (x/255 − mean)/std, instead of BGR 0–255 minus the mean: the network
    /// saw p − m = 255·std·x per channel, so conv1's input channels are reversed and scaled by 255·std. A z-scored
    /// grey slice repeated to 3 channels is then read as an image with ImageNet's contrast around the mean colour.
    /// </summary>
    private static void FoldInputConvention(Dictionary<string, Tensor> state)
    {
        var conv1 = state["conv1.weight"];
        if (conv1.Shape[1] != 3) throw new CheckpointFormatException($"conv1 takes {conv1.Shape[1]} channels, not 3");
        var w = conv1.ToArray<float>();
        var folded = new float[w.Length];
        int outChannels = conv1.Shape[0], plane = conv1.Shape[2] * conv1.Shape[3];
        for (int o = 0; o < outChannels; o++)
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < plane; i++)
                    folded[(o * 3 + c) * plane + i] = (float)(w[(o * 3 + (2 - c)) * plane + i] * 255 * ImageNetStd[c]);
        state["conv1.weight"] = Tensor.FromArray(folded, conv1.Shape);
    }

    /// <summary>One pass over the graph, following tensors from the image input to the last block.</summary>
    private sealed class GraphWalk
    {
        private readonly string _path;
        private readonly GraphProto _graph;
        private readonly Dictionary<string, TensorProto> _weights;
        private readonly ILookup<string, NodeProto> _consumers;
        private readonly Dictionary<string, Tensor> _state = [];
        private int _convsUsed;

        public GraphWalk(GraphProto? graph, string path)
        {
            _path = path;
            _graph = graph ?? throw NotResNet("the file holds no graph");
            _weights = [];
            foreach (var t in graph.Initializer) _weights[t.Name] = t;
            _consumers = graph.Node.SelectMany(n => n.Input.Select(i => (Input: i, Node: n))).ToLookup(p => p.Input, p => p.Node);
        }

        public Dictionary<string, Tensor> BackboneStateDict()
        {
            var images = _graph.Input.Where(i => !_weights.ContainsKey(i.Name)).ToList();
            if (images.Count != 1) throw NotResNet($"it has {images.Count} non-weight inputs, a ResNet has one image input");
            var x = ConvBn(Only(images[0].Name, "Conv"), "conv1", "bn1", kernel: 7, stride: 2);
            var pool = Only(Only(x, "Relu").Output[0], "MaxPool");
            if (!Ints(pool, "kernel_shape", []).SequenceEqual([3L, 3L]) || !Ints(pool, "strides", []).SequenceEqual([2L, 2L]))
                throw NotResNet($"{pool.Name} is not a 3×3/2 max pool");
            CheckPads(pool, 3, 2);
            x = pool.Output[0];
            int stage = 1, block = 0, blocks = 0;
            while (true)
            {
                var convs = _consumers[x].Where(n => n.OpType == "Conv").ToList();
                if (convs.Count == 0) break;
                var shortcut = convs.Count == 2 ? convs.FirstOrDefault(c => WeightDims(c)[2] == 1) : null;
                var main = convs.Where(c => c != shortcut).ToList();
                if (main.Count != 1 || convs.Count > 2) throw NotResNet($"'{x}' feeds {convs.Count} convolutions, a block has one 3×3 and at most one 1×1 shortcut");
                if (shortcut != null && blocks > 0) (stage, block) = (stage + 1, 0);
                if (stage > 4) throw NotResNet("it has more than four stages");
                string prefix = $"layer{stage}.{block}.";
                int stride = shortcut != null && blocks > 0 ? 2 : 1;
                var y = Only(ConvBn(main[0], prefix + "conv1", prefix + "bn1", 3, stride), "Relu").Output[0];
                y = ConvBn(Only(y, "Conv"), prefix + "conv2", prefix + "bn2", 3, 1);
                var identity = shortcut == null ? x : ConvBn(shortcut, prefix + "downsample.0", prefix + "downsample.1", 1, stride);
                var add = Only(y, "Add");
                if (!add.Input.Order().SequenceEqual(new[] { y, identity }.Order()))
                    throw NotResNet($"{add.Name} adds [{string.Join(", ", add.Input)}], not the block output and its shortcut");
                x = Only(add.Output[0], "Relu").Output[0];
                (block, blocks) = (block + 1, blocks + 1);
            }
            if (stage != 4) throw NotResNet($"it has {stage} stage(s) of residual blocks, a ResNet has 4");
            int total = _graph.Node.Count(n => n.OpType == "Conv");
            if (total != _convsUsed) throw NotResNet($"{total - _convsUsed} of its {total} convolutions are outside the ResNet trunk");
            return _state;
        }

        /// <summary>A bias-free conv and the BatchNormalization after it, stored under the two names; returns the BN output.</summary>
        private string ConvBn(NodeProto conv, string convName, string bnName, int kernel, int stride)
        {
            var dims = WeightDims(conv);
            if (conv.Input.Count > 2) throw NotResNet($"{conv.Name} has a bias ({convName} has none in a ResNet)");
            if (dims[2] != kernel || dims[3] != kernel) throw NotResNet($"{conv.Name} ({convName}) is {dims[2]}×{dims[3]}, expected {kernel}×{kernel}");
            if (Ints(conv, "strides", [1, 1]) is var s && (s[0] != stride || s[1] != stride))
                throw NotResNet($"{conv.Name} ({convName}) has stride {string.Join("×", s)}, expected {stride}");
            if (Ints(conv, "dilations", [1, 1]).Any(d => d != 1) || Ints(conv, "group", [1])[0] != 1)
                throw NotResNet($"{conv.Name} ({convName}) is dilated or grouped");
            CheckPads(conv, kernel, stride);
            _state[convName + ".weight"] = Weight(conv.Input[1], dims);
            _convsUsed++;
            var bn = Only(conv.Output[0], "BatchNormalization");
            var eps = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            if (Math.Abs(eps - 1e-5) > 1e-9) throw NotResNet($"{bn.Name} has eps {eps}; torchvision's BatchNorm2d uses 1e-5");
            if (bn.Input.Count != 5) throw NotResNet($"{bn.Name} has {bn.Input.Count} inputs, expected 5");
            int channels = (int)dims[0];
            foreach (var (input, key) in bn.Input.Skip(1).Zip(new[] { "weight", "bias", "running_mean", "running_var" }))
                _state[$"{bnName}.{key}"] = Weight(input, [channels]);
            _state[bnName + ".num_batches_tracked"] = Tensor.Scalar(0, DType.Float64);
            return bn.Output[0];
        }

        /// <summary>
        /// The leading pads must be kernel/2 (they fix which pixels each output reads); trailing pads may be smaller by
        /// up to stride − 1, as in CNTK's exports, which gives the same outputs as symmetric padding at even input sizes.
        /// </summary>
        private void CheckPads(NodeProto node, int kernel, int stride)
        {
            var pads = Ints(node, "pads", [0, 0, 0, 0]);
            int half = kernel / 2;
            if (pads.Length != 4 || pads[0] != half || pads[1] != half || pads.Skip(2).Any(p => p > half || p < half - (stride - 1)))
                throw NotResNet($"{node.Name} pads [{string.Join(",", pads)}] are not a {kernel}×{kernel}/{stride} ResNet layer's");
        }

        private long[] WeightDims(NodeProto conv)
        {
            if (conv.Input.Count < 2 || !_weights.TryGetValue(conv.Input[1], out var w) || w.Dims.Count != 4)
                throw NotResNet($"{conv.Name} has no 4-d weight initializer");
            return w.Dims.ToArray();
        }

        private Tensor Weight(string name, long[] dims)
        {
            if (!_weights.TryGetValue(name, out var t)) throw NotResNet($"'{name}' is not an initializer");
            if (t.DataType != (int)TensorProto.Types.DataType.Float) throw NotResNet($"'{name}' has ONNX data type {t.DataType}, expected float");
            if (!t.Dims.SequenceEqual(dims)) throw NotResNet($"'{name}' has shape [{string.Join(",", t.Dims)}], expected [{string.Join(",", dims)}]");
            long count = dims.Aggregate(1L, (a, d) => a * d);
            // Values are either in float_data or, little-endian, in raw_data.
            float[] values = t.FloatData.Count > 0 ? t.FloatData.ToArray() : MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
            if (values.Length != count) throw new CheckpointFormatException($"{_path}: '{name}' holds {values.Length} values, its shape needs {count} (truncated or corrupt)");
            return Tensor.FromArray(values, dims.Select(d => (int)d).ToArray());
        }

        /// <summary>The one node of type <paramref name="op"/> reading tensor <paramref name="tensor"/>.</summary>
        private NodeProto Only(string tensor, string op)
        {
            var nodes = _consumers[tensor].Where(n => n.OpType == op).ToList();
            return nodes.Count == 1 ? nodes[0] : throw NotResNet($"'{tensor}' feeds {nodes.Count} {op} nodes where a ResNet has one");
        }

        private static long[] Ints(NodeProto node, string name, long[] fallback) =>
            node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? (a.Ints.Count > 0 ? a.Ints.ToArray() : [a.I]) : fallback;

        private CheckpointFormatException NotResNet(string why) => new($"{_path}: not a BasicBlock ResNet graph: {why}");
    }
}
