namespace IlgpuSeg.Data.Preprocessing;

/// <summary>
/// Keeps some label ids and renumbers them, e.g. "5:1,2:2,3:3,1:4" turns TotalSegmentator's liver (5), kidneys
/// (2, 3) and spleen (1) into the CHAOS ids 1..4. Every id not listed becomes background.
/// </summary>
public sealed class LabelMapping
{
    private readonly IReadOnlyDictionary<int, int> _map;

    public LabelMapping(IReadOnlyDictionary<int, int> map)
    {
        if (map.Count == 0) throw new ArgumentException("a label mapping needs at least one pair");
        if (map.Any(p => p.Key < 0 || p.Value < 1))
            throw new ArgumentException("label mapping ids must be from >= 0 to >= 1 (0 is background)");
        _map = map;
    }

    /// <summary>Largest id after mapping.</summary>
    public int MaxTarget => _map.Values.Max();

    /// <summary>Parses "from:to,from:to"; throws <see cref="FormatException"/> with the offending part.</summary>
    public static LabelMapping Parse(string text)
    {
        var map = new Dictionary<int, int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var sides = part.Split(':', StringSplitOptions.TrimEntries);
            if (sides.Length != 2 || !int.TryParse(sides[0], out var from) || !int.TryParse(sides[1], out var to) || from < 0 || to < 1)
                throw new FormatException($"label mapping '{part}' is not from:to with from >= 0 and to >= 1 (e.g. 5:1,2:2)");
            if (!map.TryAdd(from, to))
                throw new FormatException($"label mapping lists id {from} twice");
        }
        return new LabelMapping(map);
    }

    public int[] Apply(ReadOnlySpan<int> labels)
    {
        var result = new int[labels.Length];
        for (var i = 0; i < result.Length; i++)
            result[i] = _map.TryGetValue(labels[i], out var to) ? to : 0;
        return result;
    }
}
