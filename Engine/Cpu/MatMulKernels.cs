namespace IlgpuSeg.Engine;

internal sealed partial class CpuKernels
{
    // Each batch is one GEMM over all threads. A transposed view (unit stride on the row axis) is passed
    // to GEMM as a transposed operand, so backward passes never copy to transpose.
    public unsafe void MatMul(Tensor a, Tensor b, Tensor y)
    {
        int batches = y.Shape[0], m = y.Shape[1], n = y.Shape[2], k = a.Shape[2];
        if (!GemmOperand(a, out bool ta, out int lda)) a = a.Clone();
        if (!GemmOperand(a, out ta, out lda)) throw new InvalidOperationException("matmul: contiguous operand rejected");
        if (!GemmOperand(b, out bool tb, out int ldb)) b = b.Clone();
        if (!GemmOperand(b, out tb, out ldb)) throw new InvalidOperationException("matmul: contiguous operand rejected");
        if (y.DType == DType.Float32)
        {
            fixed (float* pa = Data<float>(a), pb = Data<float>(b), py = Data<float>(y))
                for (int i = 0; i < batches; i++)
                    Gemm.Sgemm(ta, tb, m, n, k, 1f, pa + a.Offset + i * a.Strides[0], lda, pb + b.Offset + i * b.Strides[0], ldb,
                        0f, py + y.Offset + i * m * n, n, Threads);
        }
        else
        {
            fixed (double* pa = Data<double>(a), pb = Data<double>(b), py = Data<double>(y))
                for (int i = 0; i < batches; i++)
                    Gemm.Dgemm(ta, tb, m, n, k, 1.0, pa + a.Offset + i * a.Strides[0], lda, pb + b.Offset + i * b.Strides[0], ldb,
                        0.0, py + y.Offset + i * m * n, n, Threads);
        }
    }

    /// <summary>Whether a rank-3 operand's matrices are row-major or transposed with a usable leading dimension.</summary>
    private static bool GemmOperand(Tensor t, out bool transposed, out int ld)
    {
        int rows = t.Shape[1], cols = t.Shape[2];
        if ((cols == 1 || t.Strides[2] == 1) && (rows == 1 || t.Strides[1] >= cols))
        {
            transposed = false;
            ld = rows == 1 ? Math.Max(1, cols) : t.Strides[1];
            return true;
        }
        if ((rows == 1 || t.Strides[1] == 1) && (cols == 1 || t.Strides[2] >= rows))
        {
            transposed = true;
            ld = cols == 1 ? Math.Max(1, rows) : t.Strides[2];
            return true;
        }
        transposed = false;
        ld = 0;
        return false;
    }
}
