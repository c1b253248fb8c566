using System.Buffers.Binary;
using System.Text;

namespace IlgpuSeg.Engine;

/// <summary>
/// What a restricted pickle may do beyond building plain values. The unpickler itself never imports or calls
/// anything: every GLOBAL, REDUCE, BUILD and persistent id is handed to the policy, which returns a plain value
/// or throws <see cref="CheckpointFormatException"/>.
/// </summary>
internal interface IPicklePolicy
{
    /// <summary>The value standing for <c>module.name</c>, or throw to refuse the global.</summary>
    object ResolveGlobal(string module, string name);

    /// <summary>REDUCE: "call" a resolved global with a tuple of arguments.</summary>
    object? Reduce(object? callable, object?[] args);

    /// <summary>BUILD: apply a state to an object; returns the object.</summary>
    object? Build(object? target, object? state);

    /// <summary>BINPERSID: the object a persistent id stands for.</summary>
    object? PersistentLoad(object? pid);
}

/// <summary>A Python dict (or OrderedDict) as the pickle built it: entries in insertion order.</summary>
internal sealed class PickleDict
{
    private readonly Dictionary<object, int> _index = new();

    public List<KeyValuePair<object?, object?>> Items { get; } = new();

    /// <summary>Python semantics: re-setting an existing key replaces its value in place.
    /// Keys are matched by value for str and int only, which is all a state dict uses.</summary>
    public void Set(object? key, object? value)
    {
        if (key is string or long && _index.TryGetValue(key, out int at))
        {
            Items[at] = new(key, value);
            return;
        }
        if (key is string or long) _index[key] = Items.Count;
        Items.Add(new(key, value));
    }

    public object? Get(string key) => _index.TryGetValue(key, out int at) ? Items[at].Value : null;
}

/// <summary>
/// A restricted unpickler for the opcodes <c>torch.save</c> emits (protocol 2, plus the protocol 4 framing and
/// string opcodes in case a file was saved with a higher <c>pickle_protocol</c>). Python ints become long,
/// floats double, str string, bool bool, None null, tuples object?[], lists List&lt;object?&gt;, dicts
/// <see cref="PickleDict"/>. Any other opcode is refused, so nothing outside this list can ever run.
/// Work and memory are linear in the pickle's length: every length is checked against the bytes left.
/// </summary>
internal sealed class Unpickler(byte[] data, string name, IPicklePolicy policy)
{
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    private readonly List<object?> _stack = new();
    private readonly Stack<int> _marks = new(); // stack heights at each MARK
    private readonly Dictionary<long, object?> _memo = new();
    private int _pos;

    public object? Load()
    {
        while (true)
        {
            int at = _pos;
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: // PROTO
                    if (ReadByte() > 5) throw Error(at, "unsupported pickle protocol");
                    break;
                case 0x95: // FRAME: a length hint for buffered readers; the data follows inline
                    Take(8);
                    break;
                case (byte)'.': // STOP
                    if (_stack.Count == 0) throw Error(at, "STOP with an empty stack");
                    return _stack[^1];
                case (byte)'(': // MARK
                    _marks.Push(_stack.Count);
                    break;
                case (byte)'}': Push(new PickleDict()); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)')': Push(Array.Empty<object?>()); break;
                case (byte)'t': Push(PopMark(at).ToArray()); break; // TUPLE
                case 0x85: Push(PopN(at, 1)); break; // TUPLE1
                case 0x86: Push(PopN(at, 2)); break; // TUPLE2
                case 0x87: Push(PopN(at, 3)); break; // TUPLE3
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case (byte)'K': Push((long)ReadByte()); break; // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
                case 0x8a: Push(ReadLong1(at)); break; // LONG1
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT is big-endian
                case (byte)'X': Push(ReadString(at, BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // BINUNICODE
                case 0x8c: Push(ReadString(at, ReadByte())); break; // SHORT_BINUNICODE
                case 0x8d: Push(ReadString(at, BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))); break; // BINUNICODE8
                case (byte)'q': Memoize(at, ReadByte()); break; // BINPUT
                case (byte)'r': Memoize(at, BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break; // LONG_BINPUT
                case 0x94: Memoize(at, _memo.Count); break; // MEMOIZE
                case (byte)'h': Push(Recall(at, ReadByte())); break; // BINGET
                case (byte)'j': Push(Recall(at, BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                case (byte)'c': // GLOBAL "module\nname\n"
                {
                    string module = ReadLine(at), global = ReadLine(at);
                    Push(policy.ResolveGlobal(module, global));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    var pair = PopN(at, 2);
                    if (pair[0] is not string module || pair[1] is not string global)
                        throw Error(at, "STACK_GLOBAL needs two strings");
                    Push(policy.ResolveGlobal(module, global));
                    break;
                }
                case (byte)'R': // REDUCE
                {
                    var pair = PopN(at, 2);
                    if (pair[1] is not object?[] args) throw Error(at, "REDUCE arguments are not a tuple");
                    Push(policy.Reduce(pair[0], args));
                    break;
                }
                case (byte)'b': // BUILD
                {
                    var pair = PopN(at, 2);
                    Push(policy.Build(pair[0], pair[1]));
                    break;
                }
                case (byte)'Q': Push(policy.PersistentLoad(PopN(at, 1)[0])); break; // BINPERSID
                case (byte)'s': // SETITEM
                {
                    var pair = PopN(at, 2);
                    DictOnTop(at).Set(pair[0], pair[1]);
                    break;
                }
                case (byte)'u': // SETITEMS
                {
                    var items = PopMark(at);
                    if (items.Count % 2 != 0) throw Error(at, "SETITEMS with an odd number of items");
                    var dict = DictOnTop(at);
                    for (int i = 0; i < items.Count; i += 2) dict.Set(items[i], items[i + 1]);
                    break;
                }
                case (byte)'a': // APPEND
                {
                    var item = PopN(at, 1)[0]; // pop first: the list is below the item
                    ListOnTop(at).Add(item);
                    break;
                }
                case (byte)'e': // APPENDS
                {
                    var items = PopMark(at);
                    ListOnTop(at).AddRange(items);
                    break;
                }
                default:
                    throw Error(at, $"unsupported pickle opcode 0x{op:x2}");
            }
        }
    }

    private CheckpointFormatException Error(int at, string message) =>
        new($"{name}: data.pkl byte {at}: {message}");

    private byte ReadByte()
    {
        if (_pos >= data.Length) throw Error(_pos, "pickle ends without STOP (truncated?)");
        return data[_pos++];
    }

    private ReadOnlySpan<byte> Take(ulong count)
    {
        if (count > (ulong)(data.Length - _pos)) throw Error(_pos, $"needs {count} bytes but only {data.Length - _pos} are left (truncated?)");
        var span = data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return span;
    }

    private string ReadString(int at, ulong length)
    {
        try { return StrictUtf8.GetString(Take(length)); }
        catch (DecoderFallbackException) { throw Error(at, "string is not valid UTF-8"); }
    }

    private string ReadLine(int at)
    {
        int end = Array.IndexOf(data, (byte)'\n', _pos);
        if (end < 0) throw Error(at, "GLOBAL name has no newline (truncated?)");
        var line = ReadString(at, (ulong)(end - _pos));
        _pos++; // the newline
        return line;
    }

    /// <summary>LONG1: n little-endian two's-complement bytes. Anything wider than a long is no tensor
    /// size or offset, so it is refused rather than modelled.</summary>
    private long ReadLong1(int at)
    {
        int n = ReadByte();
        if (n > 8) throw Error(at, $"integer of {n} bytes is too large");
        var bytes = Take((ulong)n);
        long value = 0;
        for (int i = n - 1; i >= 0; i--) value = (value << 8) | bytes[i];
        if (n is > 0 and < 8 && (bytes[n - 1] & 0x80) != 0) value -= 1L << (8 * n); // sign-extend
        return value;
    }

    private void Push(object? value) => _stack.Add(value);

    private object?[] PopN(int at, int count)
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count - floor < count) throw Error(at, "stack underflow");
        var items = _stack.GetRange(_stack.Count - count, count).ToArray();
        _stack.RemoveRange(_stack.Count - count, count);
        return items;
    }

    private List<object?> PopMark(int at)
    {
        if (_marks.Count == 0) throw Error(at, "no MARK to pop to");
        int height = _marks.Pop();
        var items = _stack.GetRange(height, _stack.Count - height);
        _stack.RemoveRange(height, _stack.Count - height);
        return items;
    }

    private object? Top(int at)
    {
        int floor = _marks.Count > 0 ? _marks.Peek() : 0;
        if (_stack.Count <= floor) throw Error(at, "stack underflow");
        return _stack[^1];
    }

    private PickleDict DictOnTop(int at) => Top(at) as PickleDict ?? throw Error(at, "SETITEM target is not a dict");

    private List<object?> ListOnTop(int at) => Top(at) as List<object?> ?? throw Error(at, "APPEND target is not a list");

    private void Memoize(int at, long index) => _memo[index] = Top(at);

    private object? Recall(int at, long index) =>
        _memo.TryGetValue(index, out var value) ? value : throw Error(at, $"memo entry {index} was never stored");
}
