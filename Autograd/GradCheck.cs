using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

/// <summary>The outcome of a gradient check: the worst element and a readable summary.</summary>
public sealed record GradCheckResult(bool Passed, double MaxAbsError, string Message);

/// <summary>
/// Checks analytic gradients against central differences in float64, as torch.autograd.gradcheck:
/// L = Σ f(x) ⊙ w for a fixed random w, so every output element contributes with its own weight.
/// </summary>
public static class GradCheck
{
    public static GradCheckResult Check(Func<Variable[], Variable> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-6, double rtol = 1e-5, ulong seed = 7)
    {
        foreach (var t in inputs)
            if (t.DType != DType.Float64) throw new ArgumentException($"gradcheck: input {t.ShapeString} is {t.DType.Name()}; use float64");
        var leaves = inputs.Select(Variable.Parameter).ToArray();
        Tape.Clear();
        var output = f(leaves);
        var weight = Tensor.Normal(output.Shape, new Generator(seed), dtype: DType.Float64, accelerator: output.Data.Accelerator);
        var loss = F.Sum(F.Mul(output, new Variable(weight)));
        loss.Backward();

        double worst = 0;
        string where = "";
        bool passed = true;
        for (int i = 0; i < inputs.Length; i++)
        {
            var analytic = leaves[i].Grad?.ToArray<double>() ?? new double[inputs[i].Count];
            var values = inputs[i].ToArray<double>();
            for (int j = 0; j < values.Length; j++)
            {
                double saved = values[j];
                values[j] = saved + eps;
                double plus = Evaluate(f, inputs, i, values, weight);
                values[j] = saved - eps;
                double minus = Evaluate(f, inputs, i, values, weight);
                values[j] = saved;
                double numeric = (plus - minus) / (2 * eps);
                double error = Math.Abs(analytic[j] - numeric);
                bool ok = error <= atol + rtol * Math.Abs(numeric);
                if (error > worst || (!ok && passed))
                {
                    worst = Math.Max(worst, error);
                    if (!ok || where.Length == 0) where = $"input {i} {inputs[i].ShapeString} element {j}: analytic {analytic[j]:G9}, numeric {numeric:G9}";
                }
                passed &= ok;
            }
        }
        return new GradCheckResult(passed, worst, $"{(passed ? "passed" : "FAILED")}; max |error| {worst:G3}; worst at {where}");
    }

    private static double Evaluate(Func<Variable[], Variable> f, Tensor[] inputs, int changed, double[] values, Tensor weight)
    {
        using var _ = Tape.NoGrad();
        var args = inputs.Select((t, k) => new Variable(k == changed ? Tensor.FromArray(values, t.Shape, t.Accelerator) : t)).ToArray();
        return Ops.Sum(Ops.Mul(f(args).Data, weight)).Item();
    }
}
