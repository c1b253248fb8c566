using IlgpuSeg.Cli.Sweep;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Sweep;

/// <summary>
/// studies/pilot.json and studies/main.json are valid studies: their options exist, the pilot plans the METHODS §7 pilot
/// from given starts, the main study's runs of the pilot's units are the pilot's runs (same ids, same folders), and the
/// runs the main study reports are committed under the ids the study file plans.
/// </summary>
public class PilotStudyTests
{
    [Fact]
    public void ThePilotPlansTwelveArmRunsFromTheGivenStarts()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-pilot").FullName;
        try
        {
            // The study file as committed, in a layout where its relative data folder exists (phantoms stand in for CHAOS).
            var studies = Directory.CreateDirectory(Path.Combine(root, "repo", "studies")).FullName;
            File.Copy(Path.Combine(Prerequisites.RepoRoot, "studies", "pilot.json"), Path.Combine(studies, "pilot.json"));
            PhantomGenerator.WriteFolder(Path.Combine(root, "shared", "data", "chaos_t2"), new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3,
                Enumerable.Range(1, 6).ToArray());
            // No start checkpoints: the study files pin each start's SHA-256, which stands for the file (it is not in the repository).

            var study = Study.Load(Path.Combine(studies, "pilot.json"));
            var runs = SweepPlan.Create(study);
            Assert.Equal(12, runs.Count);   // 2 splits × 2 seeds × 3 arms, no stage-1 run
            Assert.All(runs, r => Assert.False(r.IsStage1));
            Assert.Equal(["control", "dpl", "japc"], runs.Select(r => r.Arm!).Distinct().Order());
            Assert.Equal([1234UL, 4321UL], runs.Select(r => r.Seed).Distinct().Order());
            Assert.All(runs, r => Assert.Equal(2000, r.Config.Iterations));
            Assert.All(runs.Where(r => r.LabelSet == 0), r => Assert.EndsWith("f0-kidneys.safetensors", r.Config.Init));
            Assert.All(runs.Where(r => r.LabelSet == 1), r => Assert.EndsWith("f0-liver-spleen.safetensors", r.Config.Init));
            Assert.True(study.Evaluation.AllSupports);
            Assert.True(study.Evaluation.SimulatedRaters);
            // The pilot's runs are the folders committed under results/study-6f9da6e (their ids hash the pinned starts).
            var committed = Directory.GetDirectories(Path.Combine(Prerequisites.RepoRoot, "results", "study-6f9da6e")).Select(d => Path.GetFileName(d));
            Assert.Empty(runs.Select(r => r.Id).Except(committed));

            File.Copy(Path.Combine(Prerequisites.RepoRoot, "studies", "main.json"), Path.Combine(studies, "main.json"));
            var main = SweepPlan.Create(Study.Load(Path.Combine(studies, "main.json")));
            Assert.Equal(48, main.Count);   // 2 folds × 2 splits × 2 seeds × 6 arms
            Assert.Equal(["control", "dpl", "dpl+japc", "dpl-first", "japc", "japc-joint"], main.Select(r => r.Arm!).Distinct().Order(StringComparer.Ordinal));
            Assert.Subset(main.Select(r => r.Folder).ToHashSet(), runs.Select(r => r.Folder).ToHashSet());
            // The main study's result in RESULTS.md: all of fold 0 and fold 1's seed-1234 runs, committed under the planned ids.
            var reported = main.Where(r => r.Fold == 0 || r.Seed == 1234).Select(r => r.Id).ToList();
            Assert.Equal(36, reported.Count);
            Assert.Empty(reported.Except(committed));
            var first = main.First(r => r.Arm == "dpl-first").Config;
            Assert.Equal(("replaced", "sgd", 1e-3, "additive"), (first.DplLoss, first.DplOptimizer, first.DplLr, first.DplInjection));
            Assert.Equal("attention", main.First(r => r.Arm == "japc-joint").Config.JapcForm);
            // An arm that picks DPL's optimiser without a rate gets that optimiser's default rate, as `train` gives it.
            System.Text.Json.Nodes.JsonObject Options(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
            Assert.Equal(0.5, study.Config("dpl", Options("""{"DplOptimizer":"sgd"}"""), 0, 0, 1, 10, null).DplLr);
            Assert.Equal(1e-3, study.Config("dpl", null, 0, 0, 1, 10, null).DplLr);
            Assert.Equal(0.2, study.Config("dpl", Options("""{"DplOptimizer":"sgd","DplLr":0.2}"""), 0, 0, 1, 10, null).DplLr);
        }
        finally { Directory.Delete(root, true); }
    }
}
