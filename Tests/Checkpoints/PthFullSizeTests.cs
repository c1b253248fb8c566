using System.Diagnostics;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;
using IlgpuSeg.Tests.Support;
using Xunit.Abstractions;
using static IlgpuSeg.Tests.Checkpoints.PthTestFiles;

namespace IlgpuSeg.Tests.Checkpoints;

/// <summary>A real torchvision checkpoint at full size (about 235 MB), saved by torch at test time.</summary>
public class PthFullSizeTests(ITestOutputHelper log)
{
    [FactNeeds(Need.PyTorch)]
    public void ReadsTorchvisionDeepLabV3ResNet101()
    {
        using var dir = new TempDir();
        var path = dir.File("deeplabv3_resnet101.pth");
        var script = "import sys, torch, torchvision; "
            + "m = torchvision.models.segmentation.deeplabv3_resnet101(weights=None, weights_backbone=None, aux_loss=False); "
            + "torch.save(m.state_dict(), sys.argv[1])";
        var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", script, path]) { RedirectStandardError = true })!;
        var stderr = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, stderr);

        var clock = Stopwatch.StartNew();
        var entries = PthReader.Read(path);
        clock.Stop();
        log.WriteLine($"read {new FileInfo(path).Length} bytes, {entries.Count} tensors in {clock.Elapsed.TotalSeconds:F2} s");

        var sd = entries.ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal(668, entries.Count);
        Assert.Equal(58_740_036L, entries.Sum(e => (long)e.Value.Count));
        Assert.Equal([2048, 512, 1, 1], sd["backbone.layer4.2.conv3.weight"].Shape);
        Assert.Equal([256, 2048, 3, 3], sd["classifier.0.convs.1.0.weight"].Shape);
        Assert.Equal([21, 256, 1, 1], sd["classifier.4.weight"].Shape);
        Assert.Equal("backbone.conv1.weight", entries[0].Name);
        Assert.Equal("int64", entries.Single(e => e.Name == "backbone.bn1.num_batches_tracked").StoredDType);

        // Our DeepLabV3-ResNet101 takes it with strict key matching, and the values land where they belong.
        var model = new DeepLabV3(ResNetConfig.ResNet101Os8, 21, new Generator(0));
        Assert.True(model.LoadStateDict(sd, strict: true).IsClean);
        var loaded = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var key in new[] { "backbone.conv1.weight", "backbone.layer3.22.bn2.running_var", "classifier.4.bias" })
            Assert.Equal(sd[key].ToDoubleArray(), loaded[key].ToDoubleArray());
    }
}
