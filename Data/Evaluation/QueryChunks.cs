namespace IlgpuSeg.Data.Evaluation;

/// <summary>
/// The part a query slice belongs to (PROTOCOL §6.3): <c>(z − z_min) // ((z_max − z_min) / n)</c> with Python's float
/// floor division, clamped to [0, n − 1]; a single-slice organ (z_max = z_min) is part 0. z_min and z_max are the
/// ground-truth extent of the class in that query scan.
/// </summary>
public static class QueryChunks
{
    public static int Part(int z, int zMin, int zMax, int parts)
    {
        if (zMax == zMin) return 0;
        var part = PythonFloorDivide(z - zMin, (zMax - zMin) / (double)parts);
        return (int)Math.Clamp(part, 0, parts - 1);
    }

    /// <summary>Python's <c>a // b</c> for floats, which rounds via fmod and can differ from floor(a / b) (1 // 0.1 is 9).</summary>
    public static double PythonFloorDivide(double a, double b)
    {
        var mod = a % b; // C#'s % on doubles is C's fmod
        var div = (a - mod) / b;
        if (mod != 0 && (b < 0) != (mod < 0)) div -= 1.0;
        if (div == 0) return Math.CopySign(0.0, a / b);
        var floor = Math.Floor(div);
        if (div - floor > 0.5) floor += 1.0;
        return floor;
    }
}
