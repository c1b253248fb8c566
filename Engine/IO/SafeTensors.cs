using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IlgpuSeg.Engine;

/// <summary>A checkpoint file that is not what it claims; the message names the file and the problem.</summary>
public sealed class CheckpointFormatException(string message) : Exception(message);

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to
/// {dtype, shape, data_offsets} (plus an optional "__metadata__" string map), then the raw little-endian data.
/// F32 and F64 load as tensors of that dtype; F16, BF16 and the integer types are widened to float32 (integers
/// to float64 when they need it) so state dicts with buffers such as num_batches_tracked load.
/// </summary>
public static class SafeTensors
{
    public sealed record Contents(Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata)
    {
        /// <summary>Each tensor's dtype as the header names it (F32, I64, ...), before widening.</summary>
        public Dictionary<string, string> StoredDTypes { get; init; } = new();
    }

    public static Contents Read(string path, Accelerator? accelerator = null)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new CheckpointFormatException($"{path}: cannot read: {e.Message}"); }
        return Parse(bytes, path, accelerator);
    }

    public static Contents Parse(byte[] bytes, string name, Accelerator? accelerator = null)
    {
        if (bytes.Length < 8) throw new CheckpointFormatException($"{name}: not a safetensors file (only {bytes.Length} bytes)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new CheckpointFormatException($"{name}: header length {headerLength} exceeds the file ({bytes.Length} bytes); truncated or not safetensors");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength)) as JsonObject
                ?? throw new CheckpointFormatException($"{name}: header is not a JSON object");
        }
        catch (JsonException e) { throw new CheckpointFormatException($"{name}: header is not valid JSON: {e.Message}"); }

        int dataStart = 8 + (int)headerLength;
        var tensors = new Dictionary<string, Tensor>();
        var metadata = new Dictionary<string, string>();
        var dtypes = new Dictionary<string, string>();
        foreach (var (key, node) in header)
        {
            if (key == "__metadata__")
            {
                if (node is JsonObject meta)
                    foreach (var (mk, mv) in meta) metadata[mk] = mv?.GetValueKind() == JsonValueKind.String ? mv.GetValue<string>() : mv?.ToJsonString() ?? "";
                continue;
            }
            tensors[key] = ReadTensor(bytes, dataStart, key, node as JsonObject, name, accelerator);
            dtypes[key] = node!["dtype"]!.GetValue<string>(); // ReadTensor has checked it
        }
        return new Contents(tensors, metadata) { StoredDTypes = dtypes };
    }

    private static Tensor ReadTensor(byte[] bytes, int dataStart, string key, JsonObject? entry, string name, Accelerator? accelerator)
    {
        try
        {
            if (entry == null) throw new CheckpointFormatException($"{name}: entry '{key}' is not an object");
            string dtype = entry["dtype"]?.GetValue<string>() ?? throw new CheckpointFormatException($"{name}: tensor '{key}' has no dtype");
            var shape = (entry["shape"] as JsonArray ?? throw new CheckpointFormatException($"{name}: tensor '{key}' has no shape"))
                .Select(d => d!.GetValue<int>()).ToArray();
            var offsets = (entry["data_offsets"] as JsonArray ?? throw new CheckpointFormatException($"{name}: tensor '{key}' has no data_offsets"))
                .Select(d => d!.GetValue<long>()).ToArray();
            if (shape.Any(d => d < 0)) throw new CheckpointFormatException($"{name}: tensor '{key}' has a negative size in {Shape.Format(shape)}");
            long count = shape.Aggregate(1L, (p, d) => p * d);
            int elementSize = ElementSize(dtype) ?? throw new CheckpointFormatException($"{name}: tensor '{key}' has unsupported dtype {dtype}");
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || dataStart + offsets[1] > bytes.Length)
                throw new CheckpointFormatException($"{name}: tensor '{key}' data_offsets [{string.Join(", ", offsets)}] lie outside the file; truncated?");
            if (offsets[1] - offsets[0] != count * elementSize)
                throw new CheckpointFormatException($"{name}: tensor '{key}' {dtype} {Shape.Format(shape)} needs {count * elementSize} bytes but has {offsets[1] - offsets[0]}");
            var data = bytes.AsSpan(dataStart + (int)offsets[0], (int)(offsets[1] - offsets[0]));
            return Decode(dtype, data, (int)count, shape, accelerator);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            throw new CheckpointFormatException($"{name}: tensor '{key}' has a malformed header entry: {e.Message}");
        }
    }

    private static int? ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "F16" or "BF16" or "I16" => 2,
        "U8" or "I8" or "BOOL" => 1,
        _ => null,
    };

    private static Tensor Decode(string dtype, ReadOnlySpan<byte> data, int count, int[] shape, Accelerator? accelerator)
    {
        if (dtype is "F64" or "I64")
        {
            var values = new double[count];
            for (int i = 0; i < count; i++)
                values[i] = dtype == "F64" ? BinaryPrimitives.ReadDoubleLittleEndian(data[(8 * i)..]) : BinaryPrimitives.ReadInt64LittleEndian(data[(8 * i)..]);
            return Tensor.FromArray(values, shape, accelerator);
        }
        var floats = new float[count];
        for (int i = 0; i < count; i++)
            floats[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]),
                "I32" => BinaryPrimitives.ReadInt32LittleEndian(data[(4 * i)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(data[(2 * i)..]),
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]) << 16),
                "I16" => BinaryPrimitives.ReadInt16LittleEndian(data[(2 * i)..]),
                "I8" => (sbyte)data[i],
                _ => data[i],
            };
        return Tensor.FromArray(floats, shape, accelerator);
    }

    /// <summary>Writes tensors (F32 or F64) and string metadata; names are sorted so the bytes are reproducible.
    /// The file is written to a temporary name and renamed, so an existing file is never left half-written.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) meta[k] = v;
            header["__metadata__"] = meta;
        }
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        long offset = 0;
        foreach (var nameKey in names)
        {
            var t = tensors[nameKey];
            long size = (long)t.Count * t.DType.SizeInBytes();
            header[nameKey] = new JsonObject
            {
                ["dtype"] = t.DType == DType.Float32 ? "F32" : "F64",
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padding = (8 - headerBytes.Length % 8) % 8; // keep the data 8-byte aligned, as the reference writer does
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)(headerBytes.Length + padding));
            stream.Write(lengthBytes);
            stream.Write(headerBytes);
            for (int i = 0; i < padding; i++) stream.WriteByte((byte)' ');
            foreach (var nameKey in names)
            {
                var t = tensors[nameKey];
                if (t.DType == DType.Float32)
                {
                    var values = t.ToArray<float>();
                    var buffer = new byte[values.Length * 4];
                    for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * i), values[i]);
                    stream.Write(buffer);
                }
                else
                {
                    var values = t.ToArray<double>();
                    var buffer = new byte[values.Length * 8];
                    for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(buffer.AsSpan(8 * i), values[i]);
                    stream.Write(buffer);
                }
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
