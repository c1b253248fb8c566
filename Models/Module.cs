using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>What <see cref="Module.LoadStateDict"/> found: keys it expected and did not get, keys it got and did not know, and shape clashes.</summary>
public sealed record LoadReport(IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected, IReadOnlyList<string> ShapeMismatches)
{
    public bool IsClean => Missing.Count == 0 && Unexpected.Count == 0 && ShapeMismatches.Count == 0;

    public override string ToString()
    {
        var parts = new List<string>();
        if (Missing.Count > 0) parts.Add($"missing keys ({Missing.Count}): {string.Join(", ", Missing.Take(20))}{(Missing.Count > 20 ? ", ..." : "")}");
        if (Unexpected.Count > 0) parts.Add($"unexpected keys ({Unexpected.Count}): {string.Join(", ", Unexpected.Take(20))}{(Unexpected.Count > 20 ? ", ..." : "")}");
        if (ShapeMismatches.Count > 0) parts.Add($"shape mismatches ({ShapeMismatches.Count}): {string.Join("; ", ShapeMismatches.Take(20))}");
        return parts.Count == 0 ? "all keys matched" : string.Join("; ", parts);
    }
}

/// <summary>A state dict that does not fit a module under strict loading.</summary>
public sealed class StateDictMismatchException(string message) : Exception(message);

/// <summary>
/// A network piece with PyTorch's habits: children, parameters and buffers registered by name (explicitly,
/// no reflection), dotted names for the state dict, train/eval mode.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Variable Value)> _parameters = [];
    private readonly List<(string Name, Tensor Value)> _buffers = [];
    private readonly List<(string Name, Module Value)> _children = [];

    public bool IsTraining { get; private set; } = true;

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        _children.Add((name, module));
        return module;
    }

    protected Variable RegisterParameter(string name, Tensor value)
    {
        var parameter = Variable.Parameter(value);
        _parameters.Add((name, parameter));
        return parameter;
    }

    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        _buffers.Add((name, value));
        return value;
    }

    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children;

    /// <summary>Every parameter with its dotted name, own ones first, then each child's in registration order.</summary>
    public IEnumerable<(string Name, Variable Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in _parameters) yield return (prefix + name, p);
        foreach (var (name, child) in _children)
            foreach (var item in child.NamedParameters(prefix + name + ".")) yield return item;
    }

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "")
    {
        foreach (var (name, b) in _buffers) yield return (prefix + name, b);
        foreach (var (name, child) in _children)
            foreach (var item in child.NamedBuffers(prefix + name + ".")) yield return item;
    }

    public IEnumerable<Variable> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Switches this module and all children to training (batch statistics, dropout) or evaluation mode.</summary>
    public Module Train(bool training = true)
    {
        IsTraining = training;
        foreach (var (_, child) in _children) child.Train(training);
        return this;
    }

    public Module Eval() => Train(false);

    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>Parameters and buffers by dotted name, in PyTorch's order (each module's parameters, its buffers, then its children).</summary>
    public List<KeyValuePair<string, Tensor>> StateDict()
    {
        var result = new List<KeyValuePair<string, Tensor>>();
        CollectState("", result);
        return result;
    }

    private void CollectState(string prefix, List<KeyValuePair<string, Tensor>> into)
    {
        foreach (var (name, p) in _parameters) into.Add(new(prefix + name, p.Data));
        foreach (var (name, b) in _buffers) into.Add(new(prefix + name, b));
        foreach (var (name, child) in _children) child.CollectState(prefix + name + ".", into);
    }

    /// <summary>
    /// Copies values into the parameters and buffers with matching names (converting dtype when needed).
    /// Strict loading throws, listing every missing, unexpected and mis-shaped key; otherwise the report says
    /// what was skipped.
    /// </summary>
    public LoadReport LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        var own = StateDict();
        var ownNames = own.Select(kv => kv.Key).ToHashSet();
        var missing = own.Where(kv => !stateDict.ContainsKey(kv.Key)).Select(kv => kv.Key).ToList();
        var unexpected = stateDict.Keys.Where(k => !ownNames.Contains(k)).Order(StringComparer.Ordinal).ToList();
        var mismatched = new List<string>();
        foreach (var (name, target) in own)
        {
            if (!stateDict.TryGetValue(name, out var source)) continue;
            if (!source.Shape.SequenceEqual(target.Shape))
                mismatched.Add($"{name}: checkpoint {source.ShapeString}, model {target.ShapeString}");
        }
        var report = new LoadReport(missing, unexpected, mismatched);
        if (strict && !report.IsClean) throw new StateDictMismatchException($"load_state_dict (strict): {report}");
        foreach (var (name, target) in own)
        {
            if (!stateDict.TryGetValue(name, out var source) || !source.Shape.SequenceEqual(target.Shape)) continue;
            var value = source.DType == target.DType ? source : source.To(target.DType);
            target.CopyFrom(value.Accelerator == target.Accelerator ? value : value.To(target.Accelerator));
        }
        return report;
    }
}

/// <summary>A module with one input and one output.</summary>
public abstract class Layer : Module
{
    public abstract Variable Forward(Variable x);
}
