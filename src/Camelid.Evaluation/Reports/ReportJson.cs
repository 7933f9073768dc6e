using System.Text;
using System.Text.Json;

namespace Camelid.Evaluation.Reports;

/// <summary>
/// The report as one JSON object, rows with FastChat's column names: single grades as <c>{model, turn, score}</c>
/// (per turn), <c>{model, category, score}</c> (per category) and <c>{model, score}</c> (over all turns); pairwise
/// results as <c>{model, win, loss, tie, win_rate, loss_rate, win_rate_adjusted}</c>; Elo as
/// <c>{model, elo, lower, upper, median, bradley_terry, battles}</c>. Numbers are rounded to 6 decimals; NaN is null.
/// </summary>
public static class ReportJson
{
    public static string Render(EvaluationReport report)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("source", report.Source);
            if (report.Single is { } single)
                WriteSingle(json, single);
            if (report.Pairwise is { } pairwise)
                WritePairwise(json, pairwise);
            json.WriteStartArray("notes");
            foreach (string note in report.Notes)
                json.WriteStringValue(note);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    static void WriteSingle(Utf8JsonWriter json, SingleReport single)
    {
        json.WriteStartObject("single");
        json.WriteString("judge", single.Judge);
        json.WriteNumber("judgments", single.Judgments);
        json.WriteNumber("failed", single.Failed);
        Rows(json, "scores", single.Overall, (j, r) => { j.WriteString("model", r.Model); Number(j, "score", r.Score); j.WriteNumber("count", r.Count); j.WriteNumber("failed", r.Failed); });
        Rows(json, "turn_scores", single.ByTurn, (j, r) => { j.WriteString("model", r.Model); j.WriteNumber("turn", r.Turn); Number(j, "score", r.Score); j.WriteNumber("count", r.Count); });
        Rows(json, "category_scores", single.ByCategory, (j, r) => { j.WriteString("model", r.Model); j.WriteString("category", r.Category); Number(j, "score", r.Score); j.WriteNumber("count", r.Count); });
        Rows(json, "relative_scores", single.Relative, (j, r) =>
        {
            j.WriteString("model", r.Model);
            j.WriteString("baseline", r.Baseline);
            Number(j, "relative_score", r.Percent);
            Number(j, "model_total", r.ModelTotal);
            Number(j, "baseline_total", r.BaselineTotal);
            j.WriteNumber("count", r.Count);
        });
        json.WriteEndObject();
    }

    static void WritePairwise(Utf8JsonWriter json, PairwiseReport pairwise)
    {
        json.WriteStartObject("pairwise");
        json.WriteString("mode", pairwise.Mode);
        json.WriteString("judge", pairwise.Judge);
        if (pairwise.Baseline != null)
            json.WriteString("baseline", pairwise.Baseline);
        json.WriteNumber("judgments", pairwise.Judgments);
        json.WriteNumber("errors", pairwise.Errors);
        json.WriteNumber("consistent", pairwise.Consistent);
        Number(json, "consistency_rate", pairwise.ConsistencyRate);
        Rows(json, "win_rates", pairwise.WinRates, (j, r) =>
        {
            j.WriteString("model", r.Model);
            j.WriteNumber("win", r.Win);
            j.WriteNumber("loss", r.Loss);
            j.WriteNumber("tie", r.Tie);
            Number(j, "win_rate", r.WinRateValue);
            Number(j, "loss_rate", r.LossRate);
            Number(j, "win_rate_adjusted", r.WinRateAdjusted);
        });
        if (pairwise.Elo is { } elo)
        {
            json.WriteStartObject("elo");
            json.WriteNumber("battles", elo.Battles);
            json.WriteNumber("bootstrap_rounds", elo.Rounds);
            json.WriteNumber("seed", elo.Seed);
            if (elo.BradleyTerryNote != null)
                json.WriteString("bradley_terry_note", elo.BradleyTerryNote);
            Rows(json, "ratings", elo.Rows, (j, r) =>
            {
                j.WriteString("model", r.Model);
                Number(j, "elo", r.Rating);
                Number(j, "lower", r.Lower);
                Number(j, "upper", r.Upper);
                Number(j, "median", r.Median);
                if (r.BradleyTerry is { } bt)
                    Number(j, "bradley_terry", bt);
                else
                    j.WriteNull("bradley_terry");
                j.WriteNumber("battles", r.Battles);
            });
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    static void Rows<T>(Utf8JsonWriter json, string name, IEnumerable<T> rows, Action<Utf8JsonWriter, T> write)
    {
        json.WriteStartArray(name);
        foreach (var row in rows)
        {
            json.WriteStartObject();
            write(json, row);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    static void Number(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
            json.WriteNumber(name, Math.Round(value, 6));
        else
            json.WriteNull(name);
    }
}
