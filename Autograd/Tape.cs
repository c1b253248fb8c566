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
        // Inside a tensor scope the gradients made here get a nested scope of their own, and each goes back to the pool
        // as soon as no pending gradient shares its buffer (PyTorch frees them during backward too): a lower peak.
        var scope = TensorScope.Current == null ? null : TensorScope.Open();
        var pending = new Dictionary<MemoryBuffer, int>(ReferenceEqualityComparer.Instance) { [gradient.Buffer] = 1 };
        var dead = new List<Tensor>();
        var entries = Entries;
        try
        {
            for (int i = entries.Count - 1; i >= 0; i--)
            {
                var entry = entries[i];
                if (!grads.Remove(entry.Output, out var g)) continue;
                Untrack(pending, g);
                var inputGrads = entry.Backward(g);
                dead.Add(g);
                for (int j = 0; j < entry.Inputs.Length; j++)
                {
                    var input = entry.Inputs[j];
                    var ig = inputGrads[j];
                    if (ig == null) continue;
                    dead.Add(ig);
                    if (!input.RequiresGrad) continue;
                    if (!ig.Shape.SequenceEqual(input.Shape))
                        throw new InvalidOperationException($"backward of {entry.Op}: gradient {ig.ShapeString} for input {input.ShapeString}");
                    if (grads.TryGetValue(input, out var acc))
                    {
                        Untrack(pending, acc);
                        dead.Add(acc);
                        ig = Ops.Add(acc, ig);
                    }
                    grads[input] = ig;
                    Track(pending, ig);
                }
                ReleaseUnused(scope, pending, dead);
            }
            foreach (var (variable, g) in grads)
            {
                if (!variable.IsLeaf) continue;
                Untrack(pending, g);
                // Grad is a tensor of its own (optimizers may update it in place): a gradient nothing else shares is
                // taken as it is, any other is copied.
                bool own = scope != null && scope.Owns(g) && !pending.ContainsKey(g.Buffer) && g.IsContiguous;
                variable.Grad = variable.Grad == null ? own ? g : g.Clone() : Ops.Add(variable.Grad, g);
                if (variable.Grad != g) dead.Add(g);
                ReleaseUnused(scope, pending, dead);
            }
        }
        finally
        {
            entries.Clear();
            scope?.DisposeKeepingAll();
        }
    }

    private static void Track(Dictionary<MemoryBuffer, int> pending, Tensor t) =>
        pending[t.Buffer] = pending.GetValueOrDefault(t.Buffer) + 1;

    private static void Untrack(Dictionary<MemoryBuffer, int> pending, Tensor t)
    {
        if (--pending[t.Buffer] == 0) pending.Remove(t.Buffer);
    }

    /// <summary>Returns to the pool every candidate made in this backward pass that no pending gradient (or leaf Grad) shares.</summary>
    private static void ReleaseUnused(TensorScope? scope, Dictionary<MemoryBuffer, int> pending, List<Tensor> dead)
    {
        if (scope != null)
            foreach (var t in dead)
                if (scope.Owns(t) && !pending.ContainsKey(t.Buffer)) scope.Release(t);
        dead.Clear();
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
