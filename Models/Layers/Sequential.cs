using IlgpuSeg.Autograd;

namespace IlgpuSeg.Models;

/// <summary>torch.nn.Sequential: children named "0", "1", ... applied in order.</summary>
public sealed class Sequential : Layer
{
    private readonly List<Layer> _layers = [];

    public Sequential(params Layer[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    public int Count => _layers.Count;

    public Layer this[int index] => _layers[index];

    public void Add(Layer layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
    }

    public override Variable Forward(Variable x)
    {
        foreach (var layer in _layers) x = layer.Forward(x);
        return x;
    }
}
