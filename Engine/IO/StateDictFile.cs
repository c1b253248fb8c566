namespace IlgpuSeg.Engine;

/// <summary>
/// Reads a state dict from a PyTorch zip checkpoint or a safetensors file, told apart by their first bytes
/// (a zip signature, or a safetensors header length followed by '{'), never by the file's extension.
/// </summary>
public static class StateDictFile
{
    public sealed record Contents(string Format, IReadOnlyList<StateDictEntry> Entries)
    {
        public Dictionary<string, Tensor> ToDictionary() => Entries.ToDictionary(e => e.Name, e => e.Value);
    }

    public static Contents Read(string path, Accelerator? accelerator = null)
    {
        var head = new byte[9];
        int got;
        try
        {
            using var stream = File.OpenRead(path);
            got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CheckpointFormatException($"{path}: cannot read: {e.Message}"); }

        // Zip archives start with a local file header "PK\x03\x04"; legacy torch files with a pickle (0x80).
        if (got >= 2 && (head[0] == 'P' && head[1] == 'K' || head[0] == 0x80))
            return new Contents("pth", PthReader.Read(path, accelerator));
        if (got == 9 && head[8] == '{')
        {
            var st = SafeTensors.Read(path, accelerator);
            return new Contents("safetensors", st.Tensors.Select(kv => new StateDictEntry(kv.Key, TorchName(st.StoredDTypes[kv.Key]), kv.Value)).ToList());
        }
        throw new CheckpointFormatException($"{path}: neither a PyTorch zip checkpoint nor a safetensors file");
    }

    /// <summary>Safetensors dtype names in torch's spelling, so both formats list alike.</summary>
    private static string TorchName(string safetensorsDType) => safetensorsDType switch
    {
        "F64" => "float64",
        "F32" => "float32",
        "F16" => "float16",
        "BF16" => "bfloat16",
        "I64" => "int64",
        "I32" => "int32",
        "I16" => "int16",
        "I8" => "int8",
        "U8" => "uint8",
        "BOOL" => "bool",
        _ => safetensorsDType,
    };
}
