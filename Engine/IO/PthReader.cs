using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace IlgpuSeg.Engine;

/// <summary>One tensor of a state dict: its name, the dtype the file stores it as (torch names: float32,
/// float64, float16, bfloat16, int64, int32, uint8, bool), and the loaded value.</summary>
public sealed record StateDictEntry(string Name, string StoredDType, Tensor Value);

/// <summary>
/// Reads PyTorch checkpoints in the zip format <c>torch.save</c> writes since 1.6: <c>&lt;archive&gt;/data.pkl</c>
/// (a pickle of the object, tensors as persistent ids naming storages) and <c>&lt;archive&gt;/data/&lt;key&gt;</c>
/// (each storage's raw little-endian bytes). The pickle is read by a restricted unpickler that knows only the
/// globals a state dict uses and never executes anything; any other global is refused by name.
/// <para>Dtypes: float32 and float64 load as such; float16 and bfloat16 widen to float32; int64 buffers (such as
/// BatchNorm's num_batches_tracked) load as float64, exact up to 2^53; int32, uint8 and bool load as float32.</para>
/// <para>The file may hold a bare state dict or a dict with one under "state_dict" or "model" (other entries such
/// as an epoch or an optimizer are ignored). Only the chosen dict's tensor values are returned, in file order,
/// with a leading "module." (from DataParallel) stripped from each name.</para>
/// </summary>
public static class PthReader
{
    public static Dictionary<string, Tensor> ReadStateDict(string path, Accelerator? accelerator = null) =>
        Read(path, accelerator).ToDictionary(e => e.Name, e => e.Value);

    /// <summary>The state dict's tensors in file order.</summary>
    public static IReadOnlyList<StateDictEntry> Read(string path, Accelerator? accelerator = null)
    {
        FileStream stream;
        try { stream = File.OpenRead(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CheckpointFormatException($"{path}: cannot read: {e.Message}"); }
        using (stream) return Read(stream, path, accelerator);
    }

    /// <summary>Reads from a seekable stream; <paramref name="name"/> is used in error messages.</summary>
    public static IReadOnlyList<StateDictEntry> Read(Stream stream, string name, Accelerator? accelerator = null)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        if (got >= 2 && magic[0] == 0x80 && magic[1] <= 5)
            throw new CheckpointFormatException($"{name}: legacy (pre-1.6, non-zip) PyTorch checkpoint; not supported: re-save it with torch >= 1.6, e.g. torch.save(torch.load(f), f2)");
        if (got < 4 || magic[0] != 'P' || magic[1] != 'K')
            throw new CheckpointFormatException($"{name}: not a PyTorch zip checkpoint (no zip signature)");
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            return ReadArchive(zip, stream.Length, name, accelerator);
        }
        // ZipArchive reports corrupt archives and entries with these; a state dict problem is already ours.
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            throw new CheckpointFormatException($"{name}: corrupt or truncated zip: {e.Message}");
        }
    }

    private static IReadOnlyList<StateDictEntry> ReadArchive(ZipArchive zip, long fileLength, string name, Accelerator? accelerator)
    {
        // torch names the single top-level folder after the file ("archive" in newer versions), so look for it.
        var pickles = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToArray();
        if (pickles.Length == 0)
        {
            if (zip.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal)))
                throw new CheckpointFormatException($"{name}: a TorchScript archive without data.pkl; save the model's state_dict() with torch.save instead");
            throw new CheckpointFormatException($"{name}: zip has no <archive>/data.pkl; not a torch.save checkpoint");
        }
        if (pickles.Length > 1) throw new CheckpointFormatException($"{name}: zip has {pickles.Length} data.pkl files");
        string prefix = pickles[0].FullName[..^"data.pkl".Length];

        var byteOrder = zip.GetEntry(prefix + "byteorder");
        if (byteOrder != null && Encoding.ASCII.GetString(ReadEntry(byteOrder, Math.Min(byteOrder.Length, 16), fileLength, name)).Trim() != "little")
            throw new CheckpointFormatException($"{name}: storages are not little-endian (byteorder file); not supported");

        var pickle = ReadEntry(pickles[0], pickles[0].Length, fileLength, name);
        var root = new Unpickler(pickle, name, new TorchPolicy(name)).Load();
        var tensors = SelectStateDict(root, name);

        // Storages may be shared by several tensors (views, tied weights); read each once and drop it after its last use.
        var uses = tensors.GroupBy(t => t.Value.Storage.Key).ToDictionary(g => g.Key, g => g.Count());
        var storages = new Dictionary<string, byte[]>();
        var result = new List<StateDictEntry>(tensors.Count);
        foreach (var (key, tensor) in tensors)
        {
            var storage = tensor.Storage;
            if (!storages.TryGetValue(storage.Key, out var bytes))
            {
                var entry = zip.GetEntry(prefix + "data/" + storage.Key)
                    ?? throw new CheckpointFormatException($"{name}: tensor '{key}': storage data/{storage.Key} is missing from the zip");
                long expected = storage.Numel * storage.Type.ElementSize;
                if (entry.Length != expected)
                    throw new CheckpointFormatException($"{name}: storage data/{storage.Key} has {entry.Length} bytes but its {storage.Numel} {storage.Type.DType} elements need {expected}");
                bytes = ReadEntry(entry, expected, fileLength, name);
                storages[storage.Key] = bytes;
            }
            if (--uses[storage.Key] == 0) storages.Remove(storage.Key);
            result.Add(new StateDictEntry(key, storage.Type.DType, Materialize(tensor, bytes, key, name, accelerator)));
        }
        return result;
    }

    /// <summary>An entry's bytes, checking the sizes the zip claims before allocating: a stored entry cannot be
    /// larger than the file and deflate cannot expand data more than about 1032 times.</summary>
    private static byte[] ReadEntry(ZipArchiveEntry entry, long length, long fileLength, string name)
    {
        if (length > Array.MaxLength || entry.CompressedLength > fileLength || entry.Length > entry.CompressedLength * 1032 + 64)
            throw new CheckpointFormatException($"{name}: zip entry {entry.FullName} claims an implausible size ({entry.Length} bytes, {entry.CompressedLength} compressed)");
        var bytes = new byte[length];
        using var s = entry.Open();
        try { s.ReadExactly(bytes); }
        catch (EndOfStreamException) { throw new CheckpointFormatException($"{name}: zip entry {entry.FullName} is shorter than its {length} bytes (truncated?)"); }
        return bytes;
    }

    /// <summary>The bare state dict, or the one under "state_dict" or "model"; its tensors with "module." stripped.</summary>
    private static List<(string Key, TensorRef Value)> SelectStateDict(object? root, string name)
    {
        if (root is not PickleDict top) throw new CheckpointFormatException($"{name}: holds a {Describe(root)}, not a state dict");
        var dict = top.Get("state_dict") as PickleDict ?? top.Get("model") as PickleDict ?? top;
        var tensors = new List<(string, TensorRef)>();
        var seen = new HashSet<string>();
        foreach (var (key, value) in dict.Items)
        {
            if (value is not TensorRef tensor) continue; // epochs, hyper-parameters, extra state: not tensors
            if (key is not string text) throw new CheckpointFormatException($"{name}: a tensor is stored under a {Describe(key)} key, not a name");
            string stripped = text.StartsWith("module.", StringComparison.Ordinal) ? text["module.".Length..] : text;
            if (!seen.Add(stripped)) throw new CheckpointFormatException($"{name}: two tensors are named '{stripped}' once 'module.' is stripped");
            tensors.Add((stripped, tensor));
        }
        if (tensors.Count == 0) throw new CheckpointFormatException($"{name}: no tensors found (looked in the top-level dict, 'state_dict' and 'model')");
        return tensors;
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        object?[] => "tuple",
        List<object?> => "list",
        PickleDict => "dict",
        TensorRef => "tensor",
        _ => value.GetType().Name,
    };

    private const long MaxRepeatedElements = 1 << 24;

    /// <summary>A contiguous copy of the tensor's elements, honouring storage offset, sizes and strides.</summary>
    private static Tensor Materialize(TensorRef t, byte[] storage, string key, string name, Accelerator? accelerator)
    {
        int rank = t.Size.Length;
        var shape = new int[rank];
        long count = 1, last = t.Offset; // last: the highest storage index the view touches
        try
        {
            for (int d = 0; d < rank; d++)
            {
                if (t.Size[d] < 0 || t.Size[d] > int.MaxValue || t.Stride[d] < 0)
                    throw new CheckpointFormatException($"{name}: tensor '{key}' has size [{string.Join(", ", t.Size)}], stride [{string.Join(", ", t.Stride)}]");
                shape[d] = (int)t.Size[d];
                count = checked(count * t.Size[d]);
                if (t.Size[d] > 0) last = checked(last + (t.Size[d] - 1) * t.Stride[d]);
            }
        }
        catch (OverflowException) { throw new CheckpointFormatException($"{name}: tensor '{key}' size [{string.Join(", ", t.Size)}] overflows"); }
        if (count > int.MaxValue) throw new CheckpointFormatException($"{name}: tensor '{key}' has {count} elements, more than supported");
        // Overlapping views (stride 0 from expand) repeat storage elements, so their size is not bounded by the file; cap it
        // so that a few bytes of pickle cannot demand gigabytes.
        if (count > t.Storage.Numel && count > MaxRepeatedElements)
            throw new CheckpointFormatException($"{name}: tensor '{key}' repeats its {t.Storage.Numel}-element storage into {count} elements, more than supported");
        if (count > 0 && last >= t.Storage.Numel)
            throw new CheckpointFormatException($"{name}: tensor '{key}' (offset {t.Offset}, size [{string.Join(", ", t.Size)}], stride [{string.Join(", ", t.Stride)}]) needs storage element {last} but storage data/{t.Storage.Key} has only {t.Storage.Numel}");

        var type = t.Storage.Type;
        var index = new long[rank];
        long src = t.Offset;
        // Visits the view's elements in row-major order, like an odometer over the sizes.
        void Advance()
        {
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d]++;
                src += t.Stride[d];
                if (index[d] < t.Size[d]) return;
                src -= t.Stride[d] * t.Size[d];
                index[d] = 0;
            }
        }

        if (type.DType is "float64" or "int64")
        {
            var doubles = new double[count];
            for (int i = 0; i < doubles.Length; i++, Advance())
            {
                var at = storage.AsSpan((int)(src * 8), 8);
                doubles[i] = type.DType == "float64" ? BinaryPrimitives.ReadDoubleLittleEndian(at) : BinaryPrimitives.ReadInt64LittleEndian(at);
            }
            return Tensor.FromArray(doubles, shape, accelerator);
        }
        var floats = new float[count];
        for (int i = 0; i < floats.Length; i++, Advance())
        {
            floats[i] = type.DType switch
            {
                "float32" => BinaryPrimitives.ReadSingleLittleEndian(storage.AsSpan((int)(src * 4), 4)),
                "int32" => BinaryPrimitives.ReadInt32LittleEndian(storage.AsSpan((int)(src * 4), 4)),
                "float16" => (float)BinaryPrimitives.ReadHalfLittleEndian(storage.AsSpan((int)(src * 2), 2)),
                "bfloat16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(storage.AsSpan((int)(src * 2), 2)) << 16),
                "bool" => storage[src] != 0 ? 1f : 0f,
                _ => storage[src], // uint8
            };
        }
        return Tensor.FromArray(floats, shape, accelerator);
    }

    /// <summary>A torch.*Storage class named in a persistent id.</summary>
    private sealed record StorageType(string DType, int ElementSize);

    /// <summary>A persistent id ('storage', type, key, location, numel): storage data/&lt;key&gt; of numel elements.</summary>
    private sealed record StorageRef(StorageType Type, string Key, long Numel);

    /// <summary>What _rebuild_tensor_v2 describes: a strided view of a storage, read only once the state dict is chosen.</summary>
    private sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);

    /// <summary>Stand-ins for the allowed callables; REDUCE dispatches on them, nothing is ever invoked.</summary>
    private enum Callable { OrderedDict, RebuildTensorV2, RebuildParameter, Size }

    private static readonly Dictionary<string, object> AllowedGlobals = new()
    {
        ["collections.OrderedDict"] = Callable.OrderedDict,
        ["torch._utils._rebuild_tensor_v2"] = Callable.RebuildTensorV2,
        ["torch._utils._rebuild_parameter"] = Callable.RebuildParameter,
        ["torch.Size"] = Callable.Size,
        ["torch.FloatStorage"] = new StorageType("float32", 4),
        ["torch.DoubleStorage"] = new StorageType("float64", 8),
        ["torch.HalfStorage"] = new StorageType("float16", 2),
        ["torch.BFloat16Storage"] = new StorageType("bfloat16", 2),
        ["torch.LongStorage"] = new StorageType("int64", 8),
        ["torch.IntStorage"] = new StorageType("int32", 4),
        ["torch.ByteStorage"] = new StorageType("uint8", 1),
        ["torch.BoolStorage"] = new StorageType("bool", 1),
    };

    /// <summary>The torch.save vocabulary: state dicts of tensors and parameters, in (Ordered)dicts.</summary>
    private sealed class TorchPolicy(string name) : IPicklePolicy
    {
        public object ResolveGlobal(string module, string global) =>
            AllowedGlobals.TryGetValue($"{module}.{global}", out var value) ? value
                : throw new CheckpointFormatException($"{name}: refusing global '{module}.{global}': only tensors, parameters and (Ordered)dicts may appear in a checkpoint (nothing in it is ever executed)");

        public object? Reduce(object? callable, object?[] args)
        {
            switch (callable)
            {
                case Callable.OrderedDict when args.Length == 0:
                    return new PickleDict();
                case Callable.Size when args is [object?[] dims] && dims.All(d => d is long):
                    return dims;
                // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                case Callable.RebuildTensorV2 when args.Length is 6 or 7 && args[0] is StorageRef storage && args[1] is long offset
                                                   && Longs(args[2]) is { } size && Longs(args[3]) is { } stride && size.Length == stride.Length:
                    if (offset < 0) throw new CheckpointFormatException($"{name}: tensor has negative storage offset {offset}");
                    return new TensorRef(storage, offset, size, stride);
                // _rebuild_parameter(data, requires_grad, backward_hooks): a parameter is its tensor here
                case Callable.RebuildParameter when args is [TensorRef tensor, _, _]:
                    return tensor;
                default:
                    throw new CheckpointFormatException($"{name}: unexpected call of {Describe(callable)} with {args.Length} arguments in data.pkl");
            }
        }

        // A state dict's BUILD sets its _metadata attribute (module versions); it carries no tensors.
        public object? Build(object? target, object? state) =>
            target is PickleDict ? target : throw new CheckpointFormatException($"{name}: unexpected BUILD of a {Describe(target)} in data.pkl");

        public object? PersistentLoad(object? pid)
        {
            if (pid is object?[] { Length: 5 } t && t[0] is "storage" && t[1] is StorageType type && t[2] is string key && t[3] is string && t[4] is long numel && numel >= 0)
            {
                if (numel > long.MaxValue / type.ElementSize) throw new CheckpointFormatException($"{name}: storage {key} claims {numel} elements");
                return new StorageRef(type, key, numel);
            }
            throw new CheckpointFormatException($"{name}: unexpected persistent id in data.pkl (expected ('storage', type, key, location, numel))");
        }

        private static long[]? Longs(object? value) =>
            value is object?[] items && items.All(i => i is long) ? items.Select(i => (long)i!).ToArray() : null;

        private static string Describe(object? callable) => callable switch
        {
            Callable c => c.ToString(),
            StorageType s => $"a {s.DType} storage class",
            _ => PthReader.Describe(callable),
        };
    }
}
