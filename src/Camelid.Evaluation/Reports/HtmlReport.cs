using System.Net;
using System.Text;

namespace Camelid.Evaluation.Reports;

/// <summary>
/// A self-contained HTML page: the report's tables and its charts as inline PNGs (data: URIs), no scripts and
/// nothing fetched, so it opens anywhere, offline, and can be mailed as one file.
/// </summary>
public static class HtmlReport
{
    public static string Render(EvaluationReport report)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.AppendLine("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.AppendLine($"<title>Camelid evaluation: {Encode(report.Source)}</title>");
        html.AppendLine("""
            <style>
            body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #222; padding: 0 1rem; }
            table { border-collapse: collapse; margin: 0.5rem 0 0.25rem; }
            th, td { padding: 0.25rem 0.75rem; border-bottom: 1px solid #ddd; }
            th { text-align: left; background: #f4f4f4; }
            td.number { text-align: right; font-variant-numeric: tabular-nums; }
            p.caption, p.note { color: #555; font-size: 0.9rem; margin-top: 0.25rem; }
            figure { margin: 1.5rem 0; }
            figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
            </style>
            """);
        html.AppendLine("</head><body>");
        html.AppendLine($"<h1>Evaluation report</h1><p class=\"caption\">{Encode(report.Source)}</p>");
        foreach (var table in ReportTables.From(report))
        {
            html.AppendLine($"<section><h2>{Encode(table.Title)}</h2><table><thead><tr>");
            foreach (string header in table.Headers)
                html.Append($"<th>{Encode(header)}</th>");
            html.AppendLine("</tr></thead><tbody>");
            foreach (var row in table.Rows)
            {
                html.Append("<tr>");
                for (int i = 0; i < row.Count; i++)
                    html.Append(i == 0 ? $"<td>{Encode(row[i])}</td>" : $"<td class=\"number\">{Encode(row[i])}</td>");
                html.AppendLine("</tr>");
            }
            html.AppendLine("</tbody></table>");
            if (table.Caption != null)
                html.AppendLine($"<p class=\"caption\">{Encode(table.Caption)}</p>");
            html.AppendLine("</section>");
        }
        var charts = ReportCharts.From(report);
        if (charts.Count > 0)
        {
            html.AppendLine("<section><h2>Charts</h2>");
            foreach (var chart in charts)
                html.AppendLine($"<figure class=\"chart\"><img alt=\"{Encode(chart.Description)}\" src=\"data:image/png;base64,{Convert.ToBase64String(chart.Png)}\">" +
                                $"<figcaption>{Encode(chart.Title)}</figcaption></figure>");
            html.AppendLine("</section>");
        }
        foreach (string note in report.Notes)
            html.AppendLine($"<p class=\"note\">note: {Encode(note)}</p>");
        html.AppendLine("</body></html>");
        return html.ToString();
    }

    static string Encode(string text) => WebUtility.HtmlEncode(text);
}
