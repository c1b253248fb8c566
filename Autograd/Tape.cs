using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

/// <summary>One recorded op: its inputs, its output and the rule mapping dOutput to dInputs.</summary>
internal sealed record TapeEntry(string Op, Variable[] Inputs, Variable Output, Func<Tensor, Tensor?[]> Backward);

/// <summary>
/// The record of ops, per thread, in execution order. <see cref="Backward"/> walks it in reverse (a valid
/// topological order), hands each op its output gradient, accumulates input gradients and finally adds
/// the gradients of leaves into <see cref="Variable.Grad"/>. The tape is cleared after every backward
/// pass; code that runs a forward without backward should use <see cref="NoGrad"/> or call <see cref="Clear"/>.
/// Inside a <see cref="TensorScope"/>, backward also releases the values the ops computed (activations) as soon as
/// every op that used them has run its backward, as PyTorch frees saved tensors: only the root and the leaves
/// stay valid after backward, so read or <see cref="TensorScope.Keep"/> any other value you need before calling it.
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
        var step = TensorScope.Current;
        var releaseAfter = ActivationsByFirstUse(step, root, entries);
        // Inside a tensor scope the gradients made here get a nested scope of their own, and each goes back to the pool
        // as soon as no pending gradient shares its buffer (PyTorch frees them during backward too): a lower peak.
        var scope = step == null ? null : TensorScope.Open();
        var pending = new Dictionary<MemoryBuffer, int>(ReferenceEqualityComparer.Instance) { [gradient.Buffer] = 1 };
        var dead = new List<Tensor>();
        try
        {
            for (int i = entries.Count - 1; i >= 0; i--)
            {
                var entry = entries[i];
                if (grads.Remove(entry.Output, out var g))
                {
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
                // Whether or not this op got a gradient, no earlier op reads what first appeared here.
                ReleaseActivations(step, releaseAfter[i], pending);
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

    /// <summary>
    /// For each entry, the activations to release once the backward pass has passed it: the values in
    /// <paramref name="step"/>'s buffers that ops recorded, each at the first entry that refers to its buffer (no backward
    /// of an earlier op can read it). The root's buffer and buffers a leaf refers to (inputs, constants) are the
    /// caller's and are never listed.
    /// </summary>
    private static List<Tensor>?[] ActivationsByFirstUse(TensorScope? step, Variable root, List<TapeEntry> entries)
    {
        var releaseAfter = new List<Tensor>?[entries.Count];
        if (step == null) return releaseAfter;
        var firstUse = new Dictionary<MemoryBuffer, (int Entry, Tensor Tensor)>(ReferenceEqualityComparer.Instance);
        var callers = new HashSet<MemoryBuffer>(ReferenceEqualityComparer.Instance) { root.Data.Buffer };
        for (int i = 0; i < entries.Count; i++)
        {
            foreach (var v in entries[i].Inputs.Append(entries[i].Output))
            {
                if (v.IsLeaf) callers.Add(v.Data.Buffer);
                if (step.Owns(v.Data)) firstUse.TryAdd(v.Data.Buffer, (i, v.Data));
            }
        }
        foreach (var (buffer, (entry, tensor)) in firstUse)
            if (!callers.Contains(buffer)) (releaseAfter[entry] ??= []).Add(tensor);
        return releaseAfter;
    }

    private static void ReleaseActivations(TensorScope? step, List<Tensor>? activations, Dictionary<MemoryBuffer, int> pending)
    {
        if (activations == null) return;
        foreach (var t in activations)
            if (step!.Owns(t) && !pending.ContainsKey(t.Buffer)) step.Release(t);
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
