using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

/// <summary>One recorded op: its inputs, its output and the rule mapping dOutput to dInputs.</summary>
internal sealed record TapeEntry(string Op, Variable[] Inputs, Variable Output, Func<Tensor, Tensor?[]> Backward);

/// <summary>
/// The record of ops, per thread, in execution order. <see cref="Backward"/> walks it in reverse (a valid
/// topological order), hands each op its output gradient, accumulates input gradients and finally adds
/// the gradients of leaves into <see cref="Variable.Grad"/>. The tape is cleared after every backward
/// pass; code that runs a forward without backward should use <see cref="NoGrad"/> or call <see cref="Clear"/>.
/// </summary>
public static class Tape
{
    [ThreadStatic] private static List<TapeEntry>? _entries;
    [ThreadStatic] private static int _noGradDepth;

    private static List<TapeEntry> Entries => _entries ??= [];

    /// <summary>True unless inside a <see cref="NoGrad"/> scope.</summary>
    public static bool IsRecording => _noGradDepth == 0;

    /// <summary>Number of ops recorded and not yet consumed by a backward pass.</summary>
    public static int Count => Entries.Count;

    /// <summary>Within the returned scope nothing is recorded and results do not require gradients.</summary>
    public static IDisposable NoGrad()
    {
        _noGradDepth++;
        return new Scope();
    }

    public static void Clear() => Entries.Clear();

    /// <summary>Wraps an op's output, recording it when any input requires a gradient.</summary>
    internal static Variable Record(string op, Tensor output, Variable[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        bool needsGrad = IsRecording && inputs.Any(i => i.RequiresGrad);
        var result = new Variable(output, needsGrad);
        if (needsGrad)
        {
            var entry = new TapeEntry(op, inputs, result, backward);
            result.Creator = entry;
            Entries.Add(entry);
        }
        return result;
    }

    internal static void Backward(Variable root, Tensor? gradient)
    {
        if (!root.RequiresGrad) throw new InvalidOperationException($"backward: {root} does not require a gradient");
        if (gradient == null && root.Data.Count != 1)
            throw new ShapeException($"backward: output {root.ShapeString} is not a scalar; pass its gradient explicitly");
        gradient ??= Tensor.Ones(root.Shape, root.DType, root.Data.Accelerator);
        if (!gradient.Shape.SequenceEqual(root.Shape))
            throw new ShapeException($"backward: gradient {gradient.ShapeString} does not match output {root.ShapeString}");

        var grads = new Dictionary<Variable, Tensor>(ReferenceEqualityComparer.Instance) { [root] = gradient };
        var entries = Entries;
        try
        {
            for (int i = entries.Count - 1; i >= 0; i--)
            {
                var entry = entries[i];
                if (!grads.Remove(entry.Output, out var g)) continue;
                var inputGrads = entry.Backward(g);
                for (int j = 0; j < entry.Inputs.Length; j++)
                {
                    var input = entry.Inputs[j];
                    var ig = inputGrads[j];
                    if (!input.RequiresGrad || ig == null) continue;
                    if (!ig.Shape.SequenceEqual(input.Shape))
                        throw new InvalidOperationException($"backward of {entry.Op}: gradient {ig.ShapeString} for input {input.ShapeString}");
                    grads[input] = grads.TryGetValue(input, out var acc) ? Ops.Add(acc, ig) : ig;
                }
            }
        }
        finally
        {
            entries.Clear();
        }
        foreach (var (variable, g) in grads)
            if (variable.IsLeaf)
                variable.Grad = variable.Grad == null ? g.Clone() : Ops.Add(variable.Grad, g); // a fresh tensor: grads may be updated in place
    }

    private sealed class Scope : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _noGradDepth--;
        }
    }
}
