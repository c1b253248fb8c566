using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Training;

/// <summary>One episode as tensors: support and query images [1, 3, S, S], per-rater masks [1, 1, S, S] and labels [1, S, S].</summary>
public sealed record EpisodeBatch(Tensor SupportImage, IReadOnlyList<Tensor> SupportMasks, IReadOnlyList<IndexTensor> SupportLabels,
    Tensor QueryImage, IReadOnlyList<IndexTensor> QueryLabels);

/// <summary>
/// The trainer's and evaluator's view of a few-shot head (alp, dpl, japc, dpl+japc): the module, one loss per episode,
/// and the foreground probability [1, 1, S, S] per rater for a query.
/// </summary>
public abstract class HeadRunner
{
    public abstract Module Model { get; }

    public abstract FewShotEncoder Encoder { get; }

    /// <summary>Counter of the head's own noise generator (DPL), saved in checkpoints; 0 for heads without one.</summary>
    public virtual ulong NoiseCounter { get => 0; set { } }

    public abstract EpisodeLoss Loss(EpisodeBatch episode, int iteration, int iterations);

    public abstract IReadOnlyList<Tensor> Probabilities(Tensor supportImage, IReadOnlyList<Tensor> supportMasks, Tensor queryImage);

    /// <summary>Per-pixel uncertainty [1, 1, S, S] of a query prediction, for heads that estimate one (DPL); null otherwise.</summary>
    public virtual Tensor? Uncertainty(Tensor supportImage, Tensor supportMask, Tensor queryImage) => null;

    /// <summary>JAPC: rater 0's background prototypes' count and spread before and after calibration (<see cref="JapcSegmenter.BackgroundSpread"/>); null for other heads.</summary>
    public virtual (int Count, double Before, double After)? BackgroundSpread(Tensor supportImage, IReadOnlyList<Tensor> supportMasks, Tensor queryImage) => null;

    /// <summary>Builds the head the config names, on the given generators (init: weights and dropout; noise: DPL's draws).</summary>
    public static HeadRunner Create(TrainConfig config, Generator init, Generator noise, Accelerator acc)
    {
        var encoder = new FewShotEncoder(config.ResNet, config.EncoderHead, init, acc: acc);
        return config.Head switch
        {
            "alp" => new Alp(new AlpSegmenter(encoder, config.Alp)),
            "dpl" => new Dpl(new DplSegmenter(encoder, config.Alp, config.Dpl, init, noise)),
            "japc" => new Japc(new JapcSegmenter(encoder, config.Alp, config.Japc, init)),
            "dpl+japc" => new Japc(new JapcSegmenter(encoder, config.Alp, config.Japc, init, config.Dpl, noise)),
            _ => throw new ArgumentException($"unknown head '{config.Head}' (alp, dpl, japc or dpl+japc)"),
        };
    }

    private static Tensor Foreground(Variable logits) => Ops.Softmax(logits.Data, 1).Narrow(1, 1, 1).Contiguous();

    /// <summary>The ALPNet baseline; with several raters it predicts each from that rater's support mask.</summary>
    private sealed class Alp(AlpSegmenter model) : HeadRunner
    {
        public override Module Model => model;

        public override FewShotEncoder Encoder => model.Encoder;

        public override EpisodeLoss Loss(EpisodeBatch e, int iteration, int iterations) =>
            model.Loss(e.SupportImage, e.SupportMasks[0], e.SupportLabels[0], e.QueryImage, e.QueryLabels[0]);

        public override IReadOnlyList<Tensor> Probabilities(Tensor supportImage, IReadOnlyList<Tensor> supportMasks, Tensor queryImage) =>
            supportMasks.Select(m => Foreground(model.Predict(supportImage, m, queryImage))).ToArray();
    }

    private sealed class Dpl(DplSegmenter model) : HeadRunner
    {
        public override Module Model => model;

        public override FewShotEncoder Encoder => model.Encoder;

        public override ulong NoiseCounter { get => model.NoiseGenerator.Counter; set => model.NoiseGenerator.Counter = value; }

        public override EpisodeLoss Loss(EpisodeBatch e, int iteration, int iterations) =>
            model.Loss(e.SupportImage, e.SupportMasks[0], e.SupportLabels[0], e.QueryImage, e.QueryLabels[0]);

        public override IReadOnlyList<Tensor> Probabilities(Tensor supportImage, IReadOnlyList<Tensor> supportMasks, Tensor queryImage) =>
            supportMasks.Select(m => Foreground(model.Predict(supportImage, m, queryImage))).ToArray();

        public override Tensor? Uncertainty(Tensor supportImage, Tensor supportMask, Tensor queryImage) =>
            model.PredictWithUncertainty(supportImage, supportMask, queryImage).Uncertainty;
    }

    /// <summary>JAPC (and DPL + JAPC): stage 1 (first half) trains the baseline (ALP or DPL) on rater 0, stage 2 calibrates across raters.</summary>
    private sealed class Japc(JapcSegmenter model) : HeadRunner
    {
        public override Module Model => model;

        public override FewShotEncoder Encoder => model.Encoder;

        public override ulong NoiseCounter
        {
            get => model.Enhancer?.NoiseGenerator.Counter ?? 0;
            set { if (model.Enhancer != null) model.Enhancer.NoiseGenerator.Counter = value; }
        }

        public override EpisodeLoss Loss(EpisodeBatch e, int iteration, int iterations)
        {
            model.Calibrate = model.Config.CalibratesAt(iteration, iterations);
            return model.Loss(e.SupportImage, e.SupportMasks, e.SupportLabels, e.QueryImage, e.QueryLabels);
        }

        public override (int Count, double Before, double After)? BackgroundSpread(Tensor supportImage, IReadOnlyList<Tensor> supportMasks, Tensor queryImage) =>
            model.BackgroundSpread(supportImage, supportMasks, queryImage);

        public override IReadOnlyList<Tensor> Probabilities(Tensor supportImage, IReadOnlyList<Tensor> supportMasks, Tensor queryImage)
        {
            model.Calibrate = true;
            return model.Predict(supportImage, supportMasks, queryImage).Select(Foreground).ToArray();
        }
    }
}
