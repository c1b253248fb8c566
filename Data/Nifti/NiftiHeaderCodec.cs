using System.Buffers.Binary;

namespace IlgpuSeg.Data;

/// <summary>
/// Converts between the 348 header bytes and <see cref="NiftiHeader"/>, and recognises what kind of
/// header the bytes are (NIfTI-1 in either byte order, NIfTI-2, ANALYZE 7.5, .hdr/.img pair).
/// </summary>
public static class NiftiHeaderCodec
{
    private const int Nifti2HeaderSize = 540;

    /// <summary>
    /// Checks that <paramref name="bytes"/> start a single-file NIfTI-1 header and returns its byte order.
    /// The byte order is the one in which sizeof_hdr reads as 348.
    /// </summary>
    public static bool DetectBigEndian(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < 4)
            throw new DataFormatException(path, $"file holds {bytes.Length} bytes, too short for a NIfTI header");
        var little = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        var big = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (little == Nifti2HeaderSize || big == Nifti2HeaderSize)
            throw new DataFormatException(path, "this is a NIfTI-2 file (sizeof_hdr 540); only NIfTI-1 is supported");
        if (little != NiftiHeader.Size && big != NiftiHeader.Size)
            throw new DataFormatException(path, $"not a NIfTI-1 file: sizeof_hdr is {little}, expected 348 (in either byte order)");
        var bigEndian = little != NiftiHeader.Size;
        if (bytes.Length < NiftiHeader.Size)
            throw new DataFormatException(path, $"file ends after {bytes.Length} bytes, inside the 348-byte NIfTI-1 header");

        var magic = bytes.Slice(344, 4);
        if (magic.SequenceEqual("n+1\0"u8)) return bigEndian;
        if (magic.SequenceEqual("ni1\0"u8))
            throw new DataFormatException(path, "this is the header of a NIfTI-1 .hdr/.img pair (magic 'ni1'); only single .nii/.nii.gz files are supported");
        if (magic.IndexOfAnyExcept((byte)0) < 0)
            throw new DataFormatException(path, "this is an ANALYZE 7.5 header (sizeof_hdr 348 but no NIfTI magic); ANALYZE is not supported");
        throw new DataFormatException(path, $"wrong magic {Convert.ToHexString(magic)}: expected 'n+1' (6E2B3100)");
    }

    public static NiftiHeader Decode(ReadOnlySpan<byte> bytes, bool bigEndian)
    {
        var r = new FieldReader(bytes[..NiftiHeader.Size], bigEndian);
        r.Int32(); // sizeof_hdr, already checked
        var h = new NiftiHeader
        {
            DataTypeText = r.Bytes(10),
            DbName = r.Bytes(18),
            Extents = r.Int32(),
            SessionError = r.Int16(),
            Regular = r.Byte(),
            DimInfo = r.Byte(),
            Dim = r.Int16s(8),
            IntentP1 = r.Single(),
            IntentP2 = r.Single(),
            IntentP3 = r.Single(),
            IntentCode = r.Int16(),
            DataTypeCode = r.Int16(),
            BitPix = r.Int16(),
            SliceStart = r.Int16(),
            PixDim = r.Singles(8),
            VoxOffset = r.Single(),
            SclSlope = r.Single(),
            SclInter = r.Single(),
            SliceEnd = r.Int16(),
            SliceCode = r.Byte(),
            XyztUnits = r.Byte(),
            CalMax = r.Single(),
            CalMin = r.Single(),
            SliceDuration = r.Single(),
            TOffset = r.Single(),
            GlMax = r.Int32(),
            GlMin = r.Int32(),
            Descrip = r.Bytes(80),
            AuxFile = r.Bytes(24),
            QFormCode = r.Int16(),
            SFormCode = r.Int16(),
            QuaternB = r.Single(),
            QuaternC = r.Single(),
            QuaternD = r.Single(),
            QOffsetX = r.Single(),
            QOffsetY = r.Single(),
            QOffsetZ = r.Single(),
            SRowX = r.Singles(4),
            SRowY = r.Singles(4),
            SRowZ = r.Singles(4),
            IntentName = r.Bytes(16),
            Magic = r.Bytes(4),
        };
        r.ExpectEnd();
        return h;
    }

    /// <summary>The header as 348 little-endian bytes.</summary>
    public static byte[] Encode(NiftiHeader h)
    {
        var bytes = new byte[NiftiHeader.Size];
        var w = new FieldWriter(bytes);
        w.Int32(NiftiHeader.Size);
        w.Bytes(h.DataTypeText, 10);
        w.Bytes(h.DbName, 18);
        w.Int32(h.Extents);
        w.Int16(h.SessionError);
        w.Byte(h.Regular);
        w.Byte(h.DimInfo);
        w.Int16s(h.Dim, 8);
        w.Single(h.IntentP1);
        w.Single(h.IntentP2);
        w.Single(h.IntentP3);
        w.Int16(h.IntentCode);
        w.Int16(h.DataTypeCode);
        w.Int16(h.BitPix);
        w.Int16(h.SliceStart);
        w.Singles(h.PixDim, 8);
        w.Single(h.VoxOffset);
        w.Single(h.SclSlope);
        w.Single(h.SclInter);
        w.Int16(h.SliceEnd);
        w.Byte(h.SliceCode);
        w.Byte(h.XyztUnits);
        w.Single(h.CalMax);
        w.Single(h.CalMin);
        w.Single(h.SliceDuration);
        w.Single(h.TOffset);
        w.Int32(h.GlMax);
        w.Int32(h.GlMin);
        w.Bytes(h.Descrip, 80);
        w.Bytes(h.AuxFile, 24);
        w.Int16(h.QFormCode);
        w.Int16(h.SFormCode);
        w.Single(h.QuaternB);
        w.Single(h.QuaternC);
        w.Single(h.QuaternD);
        w.Single(h.QOffsetX);
        w.Single(h.QOffsetY);
        w.Single(h.QOffsetZ);
        w.Singles(h.SRowX, 4);
        w.Singles(h.SRowY, 4);
        w.Singles(h.SRowZ, 4);
        w.Bytes(h.IntentName, 16);
        w.Bytes(h.Magic, 4);
        w.ExpectEnd();
        return bytes;
    }

    private ref struct FieldReader(ReadOnlySpan<byte> bytes, bool bigEndian)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _pos;

        private ReadOnlySpan<byte> Take(int n)
        {
            var s = _bytes.Slice(_pos, n);
            _pos += n;
            return s;
        }

        public byte Byte() => Take(1)[0];
        public byte[] Bytes(int n) => Take(n).ToArray();
        public short Int16() => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(Take(2)) : BinaryPrimitives.ReadInt16LittleEndian(Take(2));
        public int Int32() => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(Take(4)) : BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        public float Single() => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(Take(4)) : BinaryPrimitives.ReadSingleLittleEndian(Take(4));

        public short[] Int16s(int n)
        {
            var a = new short[n];
            for (var i = 0; i < n; i++) a[i] = Int16();
            return a;
        }

        public float[] Singles(int n)
        {
            var a = new float[n];
            for (var i = 0; i < n; i++) a[i] = Single();
            return a;
        }

        public readonly void ExpectEnd()
        {
            if (_pos != NiftiHeader.Size) throw new InvalidOperationException($"header layout read {_pos} bytes, not 348");
        }
    }

    private ref struct FieldWriter(Span<byte> bytes)
    {
        private readonly Span<byte> _bytes = bytes;
        private int _pos;

        private Span<byte> Take(int n)
        {
            var s = _bytes.Slice(_pos, n);
            _pos += n;
            return s;
        }

        public void Byte(byte v) => Take(1)[0] = v;
        public void Int16(short v) => BinaryPrimitives.WriteInt16LittleEndian(Take(2), v);
        public void Int32(int v) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), v);
        public void Single(float v) => BinaryPrimitives.WriteSingleLittleEndian(Take(4), v);

        /// <summary>Writes exactly n bytes: shorter arrays are zero-padded, longer ones are an error.</summary>
        public void Bytes(byte[] v, int n)
        {
            if (v.Length > n) throw new ArgumentException($"header text field holds {v.Length} bytes, at most {n} fit");
            v.CopyTo(Take(n));
        }

        public void Int16s(short[] v, int n)
        {
            if (v.Length != n) throw new ArgumentException($"header array field needs {n} values, got {v.Length}");
            foreach (var x in v) Int16(x);
        }

        public void Singles(float[] v, int n)
        {
            if (v.Length != n) throw new ArgumentException($"header array field needs {n} values, got {v.Length}");
            foreach (var x in v) Single(x);
        }

        public readonly void ExpectEnd()
        {
            if (_pos != NiftiHeader.Size) throw new InvalidOperationException($"header layout wrote {_pos} bytes, not 348");
        }
    }
}
