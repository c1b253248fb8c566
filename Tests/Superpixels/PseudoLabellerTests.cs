using IlgpuSeg.Data;
using IlgpuSeg.Data.Superpixels;
using IlgpuSeg.Tests.Support;
using static IlgpuSeg.Tests.Superpixels.SuperpixelFixtures;

namespace IlgpuSeg.Tests.Superpixels;

public class PseudoLabellerTests
{
    [Theory]
    [InlineData(15)]
    [InlineData(39)]
    public void VolumeMatchesTheNotebookSliceBySlice(int pid)
    {
        var (image, _) = Image(pid);
        var labels = PseudoLabeller.LabelVolume(image, BodyMask.ChaosMriThreshold);

        Assert.Equal(image.Shape, labels.Shape);
        Assert.Equal(NiftiDataType.Int32, labels.DataType);
        Assert.Equal(image.Affine, labels.Affine);
        Assert.Equal(image.Spacing, labels.Spacing);
        var data = labels.GetData();
        int sliceSize = image.Shape[0] * image.Shape[1], mismatches = 0;
        foreach (var s in Slices.Where(s => s.Pid == pid))
        {
            var slice = data.AsSpan(s.Z * sliceSize, sliceSize).ToArray().Select(v => (int)v).ToArray();
            if (Sha256(slice) != s.PseudolabelSha256) mismatches++;
        }
        Assert.Equal(0, mismatches);
    }

    /// <summary>
    /// Not "1..N contiguous": the reference leaves numbers unused, and we keep its numbers (see
    /// <see cref="PseudoLabeller.NumberAsNotebook"/>). What does hold: zero outside the body, each label is one
    /// Felzenszwalb segment's in-body part, segment 0 is dropped, K-1 is written as K, the rest keep their number.
    /// </summary>
    [Fact]
    public void LabelsAreFelzenszwalbSegmentsInsideTheBodyNumberedAsTheNotebook()
    {
        var (values, height, width) = Slice(39, 14);
        var labels = PseudoLabeller.LabelSlice(values, height, width, BodyMask.ChaosMriThreshold);
        var k = AssertNotebookNumbering(values, height, width, labels);
        Assert.DoesNotContain(k - 1, labels);
        Assert.Contains(k, labels);
        Assert.True(labels.Distinct().Count() > 10, "a slice through the liver should have many superpixels");
    }

    /// <summary>
    /// Checks the rule of <see cref="PseudoLabeller.NumberAsNotebook"/> against an independent Felzenszwalb run and
    /// body mask: zero outside the body and on segment 0, K for segment K-1, k for segment k. Returns K.
    /// </summary>
    private static int AssertNotebookNumbering(ReadOnlySpan<double> values, int height, int width, ReadOnlySpan<int> labels)
    {
        var segments = Felzenszwalb.Segment(values, height, width, PseudoLabeller.Scale, PseudoLabeller.Sigma, PseudoLabeller.MinSize);
        var mask = BodyMask.Compute(values, height, width, BodyMask.ChaosMriThreshold);
        var k = segments.Max() + 1;
        for (var i = 0; i < labels.Length; i++)
        {
            var expected = !mask[i] || segments[i] == 0 ? 0 : segments[i] == k - 1 ? k : segments[i];
            Assert.Equal(expected, labels[i]);
        }
        return k;
    }

    [Fact]
    public void NumberingOnAHandBuiltCase()
    {
        // Segments 0..4 (K = 5). Segment 3 lies wholly outside the body; segment 0 straddles it.
        int[] segments = [0, 0, 1, 1, 2, 3, 4, 4];
        bool[] mask = [false, true, true, true, true, false, true, false];
        Assert.Equal([0, 0, 1, 1, 2, 0, 5, 0], PseudoLabeller.NumberAsNotebook(segments, mask));
    }

    [Fact]
    public void OneSegmentGivesNoLabels() =>
        Assert.Equal([0, 0, 0], PseudoLabeller.NumberAsNotebook([0, 0, 0], [true, true, true]));

    [Fact]
    public void TwoSegmentsGiveOnlyLabelTwo() =>
        Assert.Equal([0, 2, 2], PseudoLabeller.NumberAsNotebook([0, 1, 1], [true, true, true]));

    [Fact]
    public void RejectsAVolumeThatIsNot3D()
    {
        var image = NiftiImage.Create([4, 4], [1, 1], NiftiDataType.Float32, new double[16]);
        var e = Assert.Throws<DataFormatException>(() => PseudoLabeller.LabelVolume(image, 0));
        Assert.Contains("3D", e.Message);
    }

    [FactNeeds(Need.SharedData)]
    public void LabelsASharedScan()
    {
        var image = Nifti.Read(Path.Combine(Prerequisites.SharedDataDir, "chaos_t2", "image_1.nii.gz"));
        var labels = PseudoLabeller.LabelVolume(image, BodyMask.ChaosMriThreshold);

        Assert.Equal(image.Shape, labels.Shape);
        Assert.Equal(image.Affine, labels.Affine);
        var values = image.GetData();
        var data = labels.GetData().Select(v => (int)v).ToArray();
        int width = image.Shape[0], height = image.Shape[1], sliceSize = width * height;
        for (var z = 0; z < image.Shape[2]; z++)
            AssertNotebookNumbering(values.AsSpan(z * sliceSize, sliceSize), height, width, data.AsSpan(z * sliceSize, sliceSize));
        Assert.True(data.Max() > 10, "a CHAOS scan should have many superpixels");
    }
}
