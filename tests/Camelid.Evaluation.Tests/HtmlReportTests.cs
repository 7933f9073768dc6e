using Camelid.Cli.Tests;
using Camelid.Evaluation.Judgments;
using Camelid.Evaluation.Questions;
using Camelid.Evaluation.Files;
using Camelid.Tests;
using Camelid.WebUi.Tests;
using Microsoft.Playwright;

namespace Camelid.Evaluation.Tests;

/// <summary>The HTML report opened in headless Chromium: its tables are there, every chart image decodes, nothing is logged as an error.</summary>
public class HtmlReportTests
{
    static string WriteBenchmark()
    {
        string bench = TestPaths.NewTempDir();
        File.WriteAllLines(Path.Combine(bench, "question.jsonl"),
            Enumerable.Range(1, 6).Select(i => $"{{\"question_id\": {i}, \"category\": \"{(i <= 3 ? "writing" : "math")}\", \"turns\": [\"q{i}\", \"q{i} again\"]}}"));
        var judge = new JudgeId("judge", "camelid-single-v1");
        string[] models = ["alpaca-7b", "vicuna-7b", "koala-7b"];
        var singles = new List<SingleJudgment>();
        for (int q = 1; q <= 6; q++)
            for (int turn = 1; turn <= 2; turn++)
                for (int m = 0; m < models.Length; m++)
                    singles.Add(new SingleJudgment(QuestionId.Number(q), models[m], judge, "<prompt & \"quotes\">", "[[5]]", q == 2 && m == 0 ? -1 : 3 + m + q % 3, turn, 1));
        JsonLines.Replace(WithFolder(JudgmentFile.PathFor(bench, "judge", JudgmentKind.Single)), singles, SingleJudgment.Write);

        var pairs = new List<PairJudgment>();
        var pairJudge = new JudgeId("judge", "camelid-pair-v1");
        string[] winners = ["model_1", "model_2", "tie", "model_1", "model_2", "model_1"];
        for (int q = 1; q <= 6; q++)
            for (int a = 0; a < models.Length; a++)
                for (int b = a + 1; b < models.Length; b++)
                {
                    string g1 = winners[(q + a + b) % winners.Length], g2 = winners[(q + 2 * a + b) % winners.Length];
                    pairs.Add(new PairJudgment(QuestionId.Number(q), models[a], models[b], g1, g2, pairJudge, "p", "j", "p", "j", 1, 1));
                }
        JsonLines.Replace(WithFolder(JudgmentFile.PathFor(bench, "judge", JudgmentKind.Pair)), pairs, PairJudgment.Write);
        return bench;
    }

    static string WithFolder(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    [ChromiumFact]
    public async Task The_html_report_renders_its_tables_and_charts_without_errors()
    {
        string bench = WriteBenchmark();
        string report = Path.Combine(bench, "report.html");
        var result = CliRunner.Run("eval", "show", "--judgments", bench, "--format", "html", "--out", report, "--bootstrap-rounds", "200");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal("", result.StandardOutput);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Chromium.LaunchOptions);
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(new Uri(report).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load });

        Assert.StartsWith("Camelid evaluation", await page.TitleAsync());
        var headings = await page.Locator("h2").AllInnerTextsAsync();
        Assert.Contains("Mean score (1–10) per model and turn", headings);
        Assert.Contains("Mean score per category", headings);
        Assert.Contains("Win / loss / tie", headings);
        Assert.Contains("Elo ratings", headings);
        Assert.Equal(3, await page.Locator("section:has(h2:text-is('Win / loss / tie')) tbody tr").CountAsync());

        // Three charts (category bars, win-rate bars, Elo intervals), each decoded by the browser at its full size.
        var images = await page.EvaluateAsync<int[][]>(
            "() => [...document.querySelectorAll('figure.chart img')].map(i => [i.complete ? 1 : 0, i.naturalWidth, i.naturalHeight])");
        Assert.Equal(3, images.Length);
        Assert.All(images, image =>
        {
            Assert.Equal(1, image[0]);
            Assert.Equal(900, image[1]);
            Assert.True(image[2] >= 200, $"chart height {image[2]}");
        });
        Assert.Empty(errors);
    }
}
