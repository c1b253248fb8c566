using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Pretrained;

/// <summary>
/// The ImageNet ResNet-18 of the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (MIT; a CNTK 2.6 export,
/// BasicBlocks [2, 2, 2, 3]), which restore downloads into the NuGet packages folder (Cli.csproj's PackageDownload).
/// The ONNX file's SHA-256 is checked against a constant before its first conversion; the converted backbone is cached
/// under $XDG_CACHE_HOME/ilgpuseg/pretrained, keyed by that checksum.
/// </summary>
public static class ImageNetResNet18
{
    public const string EncoderName = "resnet18-imagenet";

    public const string OnnxSha256 = "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f";

    private const string PackageFolder = "microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1";

    private const string OnnxInPackage = "tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    /// <summary>Its shape: CNTK's ImageNet recipe has three blocks in layer4; output stride 8 by dilating layer3 and layer4.</summary>
    public static ResNetConfig Config => new([2, 2, 2, 3], [false, true, true], 1.0, ResNetBlock.Basic);

    /// <summary>NuGet's global packages folder: $NUGET_PACKAGES, else ~/.nuget/packages (as NuGet itself resolves it).</summary>
    public static string PackagesRoot
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
            return string.IsNullOrEmpty(fromEnv)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")
                : fromEnv;
        }
    }

    /// <summary>The ONNX file in the packages folder; a missing package is a <see cref="CheckpointFormatException"/> saying how to get it.</summary>
    public static string OnnxPath
    {
        get
        {
            var path = Path.Combine(PackagesRoot, PackageFolder, OnnxInPackage);
            return File.Exists(path) ? path
                : throw new CheckpointFormatException($"{path}: not found; `dotnet restore` of this repository downloads the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 there");
        }
    }

    /// <summary>$XDG_CACHE_HOME/ilgpuseg/pretrained, or ~/.cache/ilgpuseg/pretrained.</summary>
    private static string CacheDirectory
    {
        get
        {
            var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "ilgpuseg", "pretrained");
        }
    }

    /// <summary>The backbone state dict (torchvision names, torchvision input normalisation), converted once and then read from the cache.</summary>
    public static IReadOnlyDictionary<string, Tensor> Backbone(TextWriter log)
    {
        var cached = Path.Combine(CacheDirectory, $"{EncoderName}-{OnnxSha256[..16]}.safetensors");
        if (File.Exists(cached)) return SafeTensors.Read(cached).Tensors;
        var onnx = OnnxPath;
        log.WriteLine($"converting {onnx} to {cached} (first use)");
        var (state, sha256) = OnnxResNet.Read(onnx, OnnxSha256);
        Directory.CreateDirectory(Path.GetDirectoryName(cached)!);
        // Written under a name of this process's own, then renamed: two runs converting at once never mix their bytes.
        var mine = $"{cached}.{Environment.ProcessId}";
        SafeTensors.Write(mine, state, OnnxResNet.Metadata(onnx, sha256));
        File.Move(mine, cached, overwrite: true);
        return state;
    }
}
