using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

/// <summary>
/// A tensor that takes part in reverse-mode differentiation. Leaves (parameters, inputs) accumulate
/// <see cref="Grad"/> across backward passes until zeroed; values made by ops are recorded on the
/// <see cref="Tape"/> together with their backward rule.
/// </summary>
public sealed class Variable
{
    public Variable(Tensor data, bool requiresGrad = false)
    {
        Data = data;
        RequiresGrad = requiresGrad;
    }

    /// <summary>A trainable leaf.</summary>
    public static Variable Parameter(Tensor data) => new(data, requiresGrad: true);

    public Tensor Data { get; set; }

    /// <summary>The accumulated gradient of a leaf (contiguous), or null before the first backward.</summary>
    public Tensor? Grad { get; set; }

    public bool RequiresGrad { get; }

    /// <summary>True for values not produced by a recorded op.</summary>
    public bool IsLeaf => Creator == null;

    internal TapeEntry? Creator { get; set; }

    public int[] Shape => Data.Shape;

    public string ShapeString => Data.ShapeString;

    public int Rank => Data.Rank;

    public DType DType => Data.DType;

    /// <summary>Same data, cut from the graph.</summary>
    public Variable Detach() => new(Data);

    /// <summary>Backpropagates from this scalar (or with an explicit upstream gradient).</summary>
    public void Backward(Tensor? gradient = null) => Tape.Backward(this, gradient);

    public void ZeroGrad() => Grad = null;

    public double Item() => Data.Item();

    public override string ToString() => $"Variable({Data.ShapeString}, {Data.DType.Name()}{(RequiresGrad ? ", requires_grad" : "")})";

    public static Variable operator +(Variable a, Variable b) => F.Add(a, b);
    public static Variable operator -(Variable a, Variable b) => F.Sub(a, b);
    public static Variable operator *(Variable a, Variable b) => F.Mul(a, b);
    public static Variable operator /(Variable a, Variable b) => F.Div(a, b);
    public static Variable operator -(Variable a) => F.Neg(a);
    public static Variable operator +(Variable a, double b) => F.AddScalar(a, b);
    public static Variable operator -(Variable a, double b) => F.AddScalar(a, -b);
    public static Variable operator *(Variable a, double b) => F.MulScalar(a, b);
    public static Variable operator *(double a, Variable b) => F.MulScalar(b, a);
    public static Variable operator /(Variable a, double b) => F.MulScalar(a, 1.0 / b);
}
