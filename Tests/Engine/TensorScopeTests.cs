using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Engine;

/// <summary>The poison switch and the ILGPU pool's byte counts are process-wide: these tests run alone.</summary>
[CollectionDefinition(nameof(TensorPoolCollection), DisableParallelization = true)]
public sealed class TensorPoolCollection;

[Collection(nameof(TensorPoolCollection))]
public class TensorScopeTests
{
    /// <summary>A tiny ALP segmenter (ResNet [1,1,1,1] × 1/16, 16 features), its SGD and a fixed 64² episode, all on <paramref name="acc"/>.</summary>
    private sealed class TinyTraining
    {
        private readonly AlpSegmenter _model;
        private readonly Sgd _sgd;
        private readonly (Tensor Image, Tensor Mask, IndexTensor Label) _support, _query;

        public TinyTraining(Accelerator acc)
        {
            var encoder = new FewShotEncoder(new ResNetConfig([1, 1, 1, 1], [false, true, true], 1 / 16.0), FeatureHead.Reduce, new Generator(1), features: 16, acc: acc);
            _model = new AlpSegmenter(encoder, AlpConfig.Default);
            _model.Train();
            _sgd = new Sgd(_model.NamedParameters().ToList(), lr: 0.01);
            _support = Phantom(acc, 1, 0);
            _query = Phantom(acc, 2, 0);
        }

        /// <summary>A noisy image with a bright 32 × 32 square at (<paramref name="corner"/>, <paramref name="corner"/>), its mask and labels.</summary>
        private static (Tensor, Tensor, IndexTensor) Phantom(Accelerator acc, ulong seed, int corner)
        {
            const int size = 64;
            var mask = new float[size * size];
            var labels = new int[size * size];
            for (int r = corner; r < corner + 32; r++)
                for (int c = corner; c < corner + 32; c++) { mask[r * size + c] = 1; labels[r * size + c] = 1; }
            var m = Tensor.FromArray(mask, [1, 1, size, size], acc);
            var image = Ops.Add(Tensor.Normal([1, 3, size, size], new Generator(seed), 0, 0.3, accelerator: acc), Ops.MulScalar(m, 2));
            return (image, m, new IndexTensor(labels, [1, size, size]));
        }

        public double Step()
        {
            var loss = _model.Loss(_support.Image, _support.Mask, _support.Label, _query.Image, _query.Label);
            double total = loss.Total.Item();
            loss.Total.Backward();
            _sgd.Step();
            _sgd.ZeroGrad();
            return total;
        }

        public float[][] Parameters() => _model.NamedParameters().Select(p => p.Parameter.Data.ToArray<float>()).ToArray();
    }

    /// <summary>Buffers no scope owns (other tests' device garbage) go back through finalisers: settle them before counting.</summary>
    private static (long Live, long Cached) PoolBytes(Accelerator acc)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return (acc.LiveBytes, acc.CachedBytes);
    }

    [Fact]
    public void FewShotTrainingStepsLeaveNoLiveBuffers()
    {
        var acc = Context.Default.CreateCpuAccelerator(2);
        var training = new TinyTraining(acc);
        for (int i = 0; i < 8; i++)
        {
            using (TensorScope.Open())
                Assert.True(double.IsFinite(training.Step()));
            // Parameters and momentum are GC arrays; every buffer of the step came back.
            Assert.Equal(0, PoolBytes(acc).Live);
        }
        Assert.True(acc.CachedBytes > 0, "the steps returned nothing to the pool");
    }

    /// <summary>conv → batch norm → ReLU → mean with SGD: every step asks for the same buffers.</summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("ilgpu-cpu")]
    public void FixedShapeStepsReuseThePoolWithoutGrowth(string device)
    {
        var acc = device == "cpu" ? Context.Default.CreateCpuAccelerator(2) : Context.Default.GetAccelerator(device);
        var gen = new Generator(7);
        var conv = new Conv2d(3, 4, 3, gen, padding: 1, accelerator: acc);
        var bn = new BatchNorm2d(4, accelerator: acc);
        var sgd = new Sgd(new[] { ("conv.weight", conv.Weight) }.Concat(bn.NamedParameters("bn.")).ToList(), lr: 0.1);
        var x = new Variable(Tensor.Normal([2, 3, 6, 6], gen, accelerator: acc));
        var counts = new List<(long Live, long Cached)>();
        for (int i = 0; i < 6; i++)
        {
            using (TensorScope.Open())
            {
                F.Mean(F.Relu(bn.Forward(conv.Forward(x)))).Backward();
                sgd.Step();
                sgd.ZeroGrad();
            }
            counts.Add(PoolBytes(acc));
        }
        Assert.True(counts[0].Cached > 0, "the first step returned nothing to the pool");
        Assert.All(counts, c => Assert.Equal(counts[0], c)); // later steps reuse the first step's buffers, none are added
        if (device == "cpu") Assert.Equal(0, counts[0].Live);
    }

    [Fact]
    public void AReleasedTensorAndItsViewsThrowWhenUsed()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        Tensor released, view, kept;
        using (var scope = TensorScope.Open())
        {
            released = Tensor.Full([2, 5], 3.0, accelerator: acc);
            view = released.Narrow(1, 1, 2).Transpose(0, 1);
            kept = TensorScope.Keep(Ops.AddScalar(released, 1));
            Assert.Equal(1, scope.OwnedCount);
        }
        // The pool hands the same memory to the next scope; the old tensors must not see it.
        using (TensorScope.Open())
            Tensor.Full([2, 5], -7.0, accelerator: acc);
        var e = Assert.Throws<InvalidOperationException>(() => Ops.Add(released, released));
        Assert.Contains("[2, 5]", e.Message);
        Assert.Contains("was released: its tensor scope ended", e.Message);
        var ev = Assert.Throws<InvalidOperationException>(() => view.ToArray<float>());
        Assert.Contains("[2, 2]", ev.Message);
        Assert.Throws<InvalidOperationException>(() => released.ToDoubleArray());
        Assert.Contains("released", released.ToString());
        Assert.Equal(Enumerable.Repeat(4f, 10), kept.ToArray<float>());
    }

    [Fact]
    public void BackwardReturnsIntermediateGradientsAtOnce()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        var x = Variable.Parameter(Tensor.Normal([5, 8], new Generator(3), accelerator: acc));
        Variable Loss() => F.Sum(F.Relu(F.AddScalar(F.MulScalar(F.Exp(x), 2), -1)));
        Loss().Backward();
        var expected = x.Grad!.ToArray<float>();
        x.ZeroGrad();
        using (var scope = TensorScope.Open())
        {
            var loss = Loss();
            Assert.Equal(5, scope.OwnedCount); // exp, ×2, −1, relu, sum
            loss.Backward();
            // The loss, the seed gradient (ones) and x.Grad remain; every intermediate gradient and activation went back.
            Assert.Equal(3, scope.OwnedCount);
            Assert.Equal(expected, x.Grad!.ToArray<float>());
        }
        Assert.True(x.Grad!.IsReleased);
    }

    [Fact]
    public void BackwardReleasesActivationsButNotTheRootTheLeavesOrKeptValues()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        var x = Variable.Parameter(Tensor.Normal([5, 8], new Generator(3), accelerator: acc));
        var constant = new Variable(Tensor.Full([5, 8], 0.5, accelerator: acc));
        (Variable Loss, Variable Hidden, Variable View) Forward()
        {
            var hidden = F.Relu(F.AddScalar(F.Mul(F.Exp(x), constant), -0.25));
            var view = F.Reshape(hidden, [40]);
            return (F.Sum(F.Mul(view, view)), hidden, view);
        }
        Forward().Loss.Backward();
        var expected = x.Grad!.ToArray<float>();
        x.ZeroGrad();
        using (TensorScope.Open())
        {
            var inScopeConstant = new Variable(Tensor.Full([5, 8], 0.5, accelerator: acc));
            constant = inScopeConstant;
            var (loss, hidden, view) = Forward();
            var kept = TensorScope.Keep(F.Exp(x).Data); // recorded on the tape, but the caller keeps it
            double value = loss.Item();
            loss.Backward();
            Assert.Equal(expected, x.Grad!.ToArray<float>());
            var e = Assert.Throws<InvalidOperationException>(() => hidden.Data.ToArray<float>());
            Assert.Contains("backward freed it", e.Message);
            Assert.True(view.Data.IsReleased); // a view of a released activation
            Assert.Equal(value, loss.Item()); // the root
            Assert.Equal(Enumerable.Repeat(0.5f, 40), inScopeConstant.Data.ToArray<float>()); // a leaf made in the scope
            Assert.False(kept.IsReleased);
        }
    }

    [Fact]
    public void APooledRequestMayTakeALongerFreeArrayAndKeepTrimsIt()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        using (TensorScope.Open())
            Tensor.Full([100], 0.0, accelerator: acc);
        Assert.Equal(PoolBytes(100), acc.CachedBytes);
        Tensor kept, other;
        using (TensorScope.Open())
        {
            var t = Tensor.Full([60], 2.0, accelerator: acc); // served by the free 100-float array (60 ≤ 100 ≤ 120, slack alike)
            Assert.Equal((0, PoolBytes(100)), (acc.CachedBytes, acc.LiveBytes));
            Assert.Equal(60, t.Buffer.Length);
            other = Tensor.Full([40], 1.0, accelerator: acc); // nothing free: a new array of 40
            Assert.Equal(PoolBytes(100) + PoolBytes(40), acc.LiveBytes);
            kept = TensorScope.Keep(t); // handed to the GC: its values move to an array of 60, the 100-float array goes back
            Assert.Equal((PoolBytes(100), PoolBytes(40)), (acc.CachedBytes, acc.LiveBytes));
            Assert.Equal(Enumerable.Repeat(2f, 60), t.ToArray<float>());
        }
        Assert.True(other.IsReleased);
        Assert.Equal((PoolBytes(100) + PoolBytes(40), 0), (acc.CachedBytes, acc.LiveBytes));
        Assert.Equal(Enumerable.Repeat(2f, 60), kept.ToArray<float>());
        using (TensorScope.Open())
        {
            Tensor.Full([30], 3.0, accelerator: acc); // an array of 40 is the shortest within 2 × 30, not the 100
            Assert.Equal(PoolBytes(40), acc.LiveBytes);
            Tensor.Full([20], 3.0, accelerator: acc); // 100 > 2 × 20: a new array
            Assert.Equal((PoolBytes(100), PoolBytes(40) + PoolBytes(20)), (acc.CachedBytes, acc.LiveBytes));
        }
    }

    [Fact]
    public void FarBelowItsHighestLiveBytesAPooledRequestMayTakeAFreeArrayUpToFourTimesLonger()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        using (TensorScope.Open())
            for (int i = 0; i < 3; i++) Tensor.Full([100], 0.0, accelerator: acc); // highest live bytes: 3 arrays of 100
        using (TensorScope.Open())
        {
            var first = Tensor.Full([30], 1.0, accelerator: acc); // nothing up to 60; 1 array live ≤ 4/5 × 3: a 100-float array
            Assert.Equal((2 * PoolBytes(100), PoolBytes(100)), (acc.CachedBytes, acc.LiveBytes));
            Tensor.Full([30], 2.0, accelerator: acc); // 2 arrays ≤ 4/5 × 3: the second one
            Assert.Equal((PoolBytes(100), 2 * PoolBytes(100)), (acc.CachedBytes, acc.LiveBytes));
            Tensor.Full([30], 3.0, accelerator: acc); // 3 arrays > 4/5 × 3: a new array of 30
            Assert.Equal((PoolBytes(100), 2 * PoolBytes(100) + PoolBytes(30)), (acc.CachedBytes, acc.LiveBytes));
            Assert.Equal(Enumerable.Repeat(1f, 30), first.ToArray<float>());
        }
        Assert.Equal((3 * PoolBytes(100) + PoolBytes(30), 0), (acc.CachedBytes, acc.LiveBytes));
    }

    [Fact]
    public unsafe void NewCpuTensorsAndWorkspacesStartOnA64ByteBoundary()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        var outside = Tensor.Zeros([7], accelerator: acc);
        using var scope = TensorScope.Open();
        Tensor[] made = [outside, Tensor.Empty([3, 5], accelerator: acc), Tensor.FromArray(new double[] { 1, 2, 3 }, [3], acc),
            Ops.Add(outside, outside), Tensor.Zeros([1000], DType.Float64, acc)];
        foreach (var t in made) Assert.Equal(0, AddressOfFirstElement(t) % 64);
        fixed (float* workspace = Workspace<float>.Get(1000, acc))
            Assert.Equal(0, (long)workspace % 64);
    }

    private static unsafe long AddressOfFirstElement(Tensor t)
    {
        var array = t.DType == DType.Float32 ? (Array)CpuKernels.Data<float>(t) : CpuKernels.Data<double>(t);
        fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(array))
            return (long)p + (long)t.Offset * t.DType.SizeInBytes();
    }

    /// <summary>Bytes a pooled float array for <paramref name="floats"/> elements holds: they and the alignment slack.</summary>
    private static long PoolBytes(int floats) => (floats + CpuAccelerator.Slack<float>()) * sizeof(float);

    [Fact]
    public void TensorsMadeOutsideEveryScopeStayValid()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        var outside = Tensor.Ones([3], accelerator: acc);
        using (TensorScope.Open())
            Ops.Add(outside, outside);
        Assert.Equal([1f, 1f, 1f], outside.ToArray<float>());
        Assert.Equal(0, acc.LiveBytes);
    }

    [Fact]
    public void ScopesMustEndInnermostFirst()
    {
        var outer = TensorScope.Open();
        var inner = TensorScope.Open();
        Assert.Throws<InvalidOperationException>(outer.Dispose);
        inner.Dispose();
        outer.Dispose();
    }

    /// <summary>
    /// Pooled and fresh buffers are not zero-filled; with every new CPU buffer full of NaN, a kernel that read its
    /// output before writing it would change the loss or the parameters.
    /// </summary>
    [Fact]
    public void TrainingStepsAreBitwiseIdenticalWithPoisonedBuffers()
    {
        (double[] Losses, float[][] Parameters) Run(bool poison)
        {
            bool before = CpuAccelerator.PoisonBuffers; // ILGPUSEG_POISON_BUFFERS=1 may have turned it on for the whole run
            CpuAccelerator.PoisonBuffers = poison;
            try
            {
                var training = new TinyTraining(Context.Default.CreateCpuAccelerator(2));
                var losses = new double[3];
                for (int i = 0; i < losses.Length; i++)
                    using (TensorScope.Open())
                        losses[i] = training.Step();
                return (losses, training.Parameters());
            }
            finally
            {
                CpuAccelerator.PoisonBuffers = before;
            }
        }
        var clean = Run(poison: false);
        var poisoned = Run(poison: true);
        Assert.All(clean.Losses, l => Assert.True(double.IsFinite(l)));
        Assert.Equal(clean.Losses, poisoned.Losses);
        for (int i = 0; i < clean.Parameters.Length; i++) Assert.Equal(clean.Parameters[i], poisoned.Parameters[i]);
    }
}
