using System.Globalization;

namespace IlgpuSeg.Tests.Reports;

/// <summary>A small study folder in the format of <c>sweep collect</c>: two arms, two organs plus the organ mean, five units.</summary>
internal static class StudyFiles
{
    public static readonly string[] Arms = ["dpl", "japc"];
    public static readonly string[] Organs = ["RK", "LK", "mean"];
    public const int Units = 5;
    public static int PairedRows => Arms.Length * Organs.Length;

    public static void Write(string dir)
    {
        var units = new List<string> { "arm,unit,organ,dice_arm,dice_control,delta" };
        var paired = new List<string> { "arm,organ,n_units,mean_delta,ci_low,ci_high,p_signflip,sigma_d,smallest_detectable_effect" };
        for (int a = 0; a < Arms.Length; a++)
            foreach (var organ in Organs)
            {
                var deltas = Enumerable.Range(0, Units).Select(u => 0.01 * (a + 1) * (u - 1.5)).ToArray();
                for (int u = 0; u < Units; u++)
                    units.Add(string.Create(CultureInfo.InvariantCulture, $"{Arms[a]},fold{u}-s1,{organ},{0.7 + deltas[u]:F4},0.7000,{deltas[u]:F4}"));
                double mean = deltas.Average();
                paired.Add(string.Create(CultureInfo.InvariantCulture, $"{Arms[a]},{organ},{Units},{mean:F4},{mean - 0.02:F4},{mean + 0.02:F4},0.5,0.0150,0.0300"));
            }
        File.WriteAllLines(Path.Combine(dir, "units.csv"), units);
        File.WriteAllLines(Path.Combine(dir, "paired.csv"), paired);
    }
}
