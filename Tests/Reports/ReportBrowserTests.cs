using System.Text.Json;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Tests.Cli;
using IlgpuSeg.Tests.Support;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace IlgpuSeg.Tests.Reports;

/// <summary>Generated reports opened in headless Chromium (Debian's, driven by Playwright): they must render as a person would see them.</summary>
public class ReportBrowserTests(ITestOutputHelper log)
{
    /// <summary>What the page showed: console errors, each image's decoded width, and the screenshot path.</summary>
    private sealed record Rendered(List<string> Errors, int[] ImageWidths, JsonElement Page, string Screenshot);

    /// <summary>
    /// Opens the file, collects console and page errors, evaluates <paramref name="probe"/> in the page and keeps a
    /// full-page screenshot under the test output folder.
    /// </summary>
    private async Task<Rendered> Open(string html, string name, string probe)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Prerequisites.FindOnPath("chromium"), Headless = true });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(new Uri(html).AbsoluteUri, new() { WaitUntil = WaitUntilState.Load });
        var widths = await page.EvalOnSelectorAllAsync<int[]>("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)");
        var probed = await page.EvaluateAsync<JsonElement>(probe);
        var artefacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artefacts")).FullName;
        var screenshot = Path.Combine(artefacts, name + ".png");
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        log.WriteLine($"screenshot: {screenshot}");
        return new Rendered(errors, widths, probed, screenshot);
    }

    // Variance of the grey level of an image, computed from its decoded pixels in the page.
    private const string ImageVariance = """
        id => {
          const img = document.getElementById(id);
          const canvas = document.createElement('canvas');
          canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
          const ctx = canvas.getContext('2d');
          ctx.drawImage(img, 0, 0);
          const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          let sum = 0, sq = 0, n = data.length / 4;
          for (let i = 0; i < data.length; i += 4) { const g = (data[i] + data[i + 1] + data[i + 2]) / 3; sum += g; sq += g * g; }
          return sq / n - (sum / n) * (sum / n);
        }
        """;

    [FactNeeds(Need.Chromium)]
    public async Task RunReportOfATinyPhantomRunRendersInChromium()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-report").FullName;
        try
        {
            var run = TinyRun.Create(root, "dpl");
            var (exit, _, err) = CommandRunner.Invoke(ReportCommand.Create(), "report", run);
            Assert.True(exit == 0, err);
            var organs = File.ReadAllLines(Path.Combine(run, "eval", "dice.csv")).Skip(1).Select(l => l.Split(',')[1]).Distinct().Count();
            var shown = await Open(Path.Combine(run, "report.html"), "run-report", $$"""
                () => ({ organRows: document.querySelectorAll('#dice-organs tbody tr').length,
                         curvesVariance: ({{ImageVariance}})('curves'),
                         uncertaintyImages: [...document.querySelectorAll('img')].filter(i => i.alt.startsWith('uncertainty')).length })
                """);
            Assert.Empty(shown.Errors);
            Assert.NotEmpty(shown.ImageWidths);
            Assert.All(shown.ImageWidths, w => Assert.True(w > 0, "an <img> did not decode"));
            Assert.Equal(organs, shown.Page.GetProperty("organRows").GetInt32());
            Assert.True(shown.Page.GetProperty("curvesVariance").GetDouble() > 100, $"curves image looks blank (grey-level variance {shown.Page.GetProperty("curvesVariance")})");
            Assert.True(shown.Page.GetProperty("uncertaintyImages").GetInt32() > 0, "a DPL run shows its uncertainty maps");
        }
        finally { Directory.Delete(root, true); }
    }

    [FactNeeds(Need.Chromium)]
    public async Task StudyReportRendersItsTableAndStripPlotInChromium()
    {
        var study = Directory.CreateTempSubdirectory("ilgpuseg-study").FullName;
        try
        {
            StudyFiles.Write(study);
            var (exit, _, err) = CommandRunner.Invoke(ReportCommand.Create(), "report", study);
            Assert.True(exit == 0, err);
            var shown = await Open(Path.Combine(study, "report.html"), "study-report", $$"""
                () => ({ pairedRows: document.querySelectorAll('#paired tbody tr').length, stripVariance: ({{ImageVariance}})('strip') })
                """);
            Assert.Empty(shown.Errors);
            Assert.All(shown.ImageWidths, w => Assert.True(w > 0, "an <img> did not decode"));
            Assert.Equal(StudyFiles.PairedRows, shown.Page.GetProperty("pairedRows").GetInt32());
            Assert.True(shown.Page.GetProperty("stripVariance").GetDouble() > 100);
        }
        finally { Directory.Delete(study, true); }
    }
}
