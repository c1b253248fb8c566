using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data;
using IlgpuSeg.Engine;
using IlgpuSeg.Tests.Reports;

namespace IlgpuSeg.Tests.Cli;

/// <summary><c>segment</c> and <c>eval --save-predictions</c> write NIfTI on the query's own grid: every geometry field of the header unchanged.</summary>
public class PredictionNiftiTests
{
    /// <summary>Gives a phantom image a non-trivial geometry (rotated qform with qfac −1, a different sform, mm units), so copying is tested.</summary>
    private static void SetGeometry(string path)
    {
        var image = Nifti.Read(path);
        var h = image.Header.Clone();
        h.PixDim = [-1, 1.5f, 1.25f, 3, 0, 0, 0, 0];
        (h.QFormCode, h.QuaternB, h.QuaternC, h.QuaternD, h.QOffsetX, h.QOffsetY, h.QOffsetZ) = (1, 0, 0, 1, -12.5f, 30.25f, -7);
        (h.SFormCode, h.SRowX, h.SRowY, h.SRowZ) = (2, [-1.5f, 0, 0, 12], [0, -1.25f, 0, 20], [0, 0, 3, -5]);
        h.XyztUnits = 10;
        Nifti.Write(path, new NiftiImage(h, image.RawBytes, image.BigEndian, path));
    }

    private static void AssertSameGeometry(NiftiHeader expected, NiftiHeader actual)
    {
        Assert.Equal(expected.Dim, actual.Dim);
        Assert.Equal(expected.PixDim, actual.PixDim);
        Assert.Equal(expected.XyztUnits, actual.XyztUnits);
        Assert.Equal(expected.QFormCode, actual.QFormCode);
        Assert.Equal((expected.QuaternB, expected.QuaternC, expected.QuaternD), (actual.QuaternB, actual.QuaternC, actual.QuaternD));
        Assert.Equal((expected.QOffsetX, expected.QOffsetY, expected.QOffsetZ), (actual.QOffsetX, actual.QOffsetY, actual.QOffsetZ));
        Assert.Equal(expected.SFormCode, actual.SFormCode);
        Assert.Equal(expected.SRowX, actual.SRowX);
        Assert.Equal(expected.SRowY, actual.SRowY);
        Assert.Equal(expected.SRowZ, actual.SRowZ);
        Assert.Equal(expected.SliceCode, actual.SliceCode);
        Assert.Equal(expected.DimInfo, actual.DimInfo);
    }

    [Fact]
    public void SegmentAndEvalKeepTheQueryGeometryAndWriteDplUncertainty()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-pred").FullName;
        try
        {
            var config = TinyRun.Config(TinyRun.Phantoms(root), "dpl", 4);
            foreach (var pid in new[] { 1, 2, 3, 4 }) SetGeometry(Path.Combine(config.Data, $"image_{pid}.nii.gz"));
            var checkpoint = Trainer.Run(config, Path.Combine(root, "run"), 4, null, Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null).CheckpointPath;
            var query = Nifti.Read(Path.Combine(config.Data, "image_1.nii.gz"));

            var outPath = Path.Combine(root, "seg_1.nii.gz");
            var (exit, _, err) = CommandRunner.Invoke(SegmentCommand.Create(), "segment", "--weights", checkpoint, "--support-image", Path.Combine(config.Data, "image_5.nii.gz"),
                "--support-mask", Path.Combine(config.Data, "label_5.nii.gz"), "--class", "2", "--query", Path.Combine(config.Data, "image_1.nii.gz"), "--out", outPath, "--threads", "2");
            Assert.True(exit == 0, err);
            var labels = Nifti.Read(outPath);
            AssertSameGeometry(query.Header, labels.Header);
            Assert.Equal(NiftiDataType.UInt8, labels.DataType);
            Assert.All(labels.GetData(), v => Assert.True(v is 0 or 1));
            var uncertainty = Nifti.Read(Path.Combine(root, "seg_1_uncertainty.nii.gz"));
            AssertSameGeometry(query.Header, uncertainty.Header);
            Assert.Equal(NiftiDataType.Float32, uncertainty.DataType);
            Assert.All(uncertainty.GetData(), v => Assert.InRange(v, 0, 0.25)); // variance of a probability

            var evalDir = Path.Combine(root, "eval");
            (exit, _, err) = CommandRunner.Invoke(EvalCommand.Create(), "eval", "--checkpoint", checkpoint, "--out", evalDir, "--save-predictions", "--threads", "2");
            Assert.True(exit == 0, err);
            var truth = Nifti.Read(Path.Combine(config.Data, "label_1.nii.gz")).GetData();
            foreach (var pid in new[] { 1, 2, 3, 4 })
                foreach (var organ in new[] { "RK", "LK" })
                {
                    var image = Nifti.Read(Path.Combine(config.Data, $"image_{pid}.nii.gz"));
                    var predicted = Nifti.Read(Path.Combine(evalDir, $"pred_{pid}_{organ}.nii.gz"));
                    AssertSameGeometry(image.Header, predicted.Header);
                    AssertSameGeometry(image.Header, Nifti.Read(Path.Combine(evalDir, $"uncertainty_{pid}_{organ}.nii.gz")).Header);
                }
            // Slices outside the organ's scored z-range are not predicted, so they stay 0.
            var rk = Nifti.Read(Path.Combine(evalDir, "pred_1_RK.nii.gz")).GetData();
            int slice = query.Shape[0] * query.Shape[1];
            var scored = Enumerable.Range(0, query.Shape[2]).Where(z => truth.Skip(z * slice).Take(slice).Any(v => v == 2)).ToArray();
            for (int z = 0; z < query.Shape[2]; z++)
                if (z < scored[0] || z > scored[^1]) Assert.All(rk.Skip(z * slice).Take(slice), v => Assert.Equal(0, v));
        }
        finally { Directory.Delete(root, true); }
    }
}
