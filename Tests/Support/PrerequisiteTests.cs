namespace IlgpuSeg.Tests.Support;

public class PrerequisiteTests
{
    /// <summary>In CI every external prerequisite must be there; a missing one is a red build, not a skip.</summary>
    [Fact]
    public void CiProvidesEveryPrerequisite()
    {
        if (!Prerequisites.InCi) return;
        var missing = Enum.GetValues<Need>().Select(Prerequisites.Missing).Where(m => m != null).ToArray();
        Assert.True(missing.Length == 0, "CI=true but: " + string.Join("; ", missing));
    }
}
