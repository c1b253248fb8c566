using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>torch.nn.BatchNorm2d: affine, running statistics with momentum 0.1 and eps 1e-5 by default.</summary>
public sealed class BatchNorm2d : Layer
{
    public BatchNorm2d(int channels, double momentum = 0.1, double eps = 1e-5, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        (Momentum, Eps) = (momentum, eps);
        Weight = RegisterParameter("weight", Tensor.Ones([channels], dtype, accelerator));
        Bias = RegisterParameter("bias", Tensor.Zeros([channels], dtype, accelerator));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros([channels], dtype, accelerator));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones([channels], dtype, accelerator));
        // An integer count in PyTorch (int64, shape []); float64 holds every count a run reaches exactly.
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros([], DType.Float64, accelerator));
    }

    public Variable Weight { get; }

    public Variable Bias { get; }

    public Tensor RunningMean { get; }

    public Tensor RunningVar { get; }

    public Tensor NumBatchesTracked { get; }

    public double Momentum { get; }

    public double Eps { get; }

    public override Variable Forward(Variable x) => Forward(x, relu: false);

    /// <summary>ReLU(batch norm(x)) fused into one op (see <see cref="F.BatchNorm"/>).</summary>
    public Variable ForwardRelu(Variable x) => Forward(x, relu: true);

    /// <summary>ReLU(batch norm(x) + residual) fused into one op (see <see cref="F.BatchNormAddRelu"/>).</summary>
    public Variable ForwardAddRelu(Variable x, Variable residual)
    {
        CountBatch();
        return F.BatchNormAddRelu(x, residual, RunningMean, RunningVar, Weight, Bias, IsTraining, Momentum, Eps);
    }

    /// <summary>conv(ReLU(batch norm(x))) as one op that keeps no ReLU output for backward (see <see cref="F.BatchNormReluConv2d"/>).</summary>
    public Variable ForwardReluConv(Variable x, Conv2d conv)
    {
        CountBatch();
        return F.BatchNormReluConv2d(x, RunningMean, RunningVar, Weight, Bias, IsTraining, Momentum, Eps, conv.Weight, conv.Bias, conv.Stride, conv.Padding, conv.Dilation);
    }

    private Variable Forward(Variable x, bool relu)
    {
        CountBatch();
        return F.BatchNorm(x, RunningMean, RunningVar, Weight, Bias, IsTraining, Momentum, Eps, relu);
    }

    private void CountBatch()
    {
        if (IsTraining) NumBatchesTracked.CopyFrom(Ops.AddScalar(NumBatchesTracked, 1));
    }
}
