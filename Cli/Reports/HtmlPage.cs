using System.Net;
using System.Text;

namespace IlgpuSeg.Cli.Reports;

/// <summary>
/// A self-contained HTML page (inline style, images embedded as data URIs, no script, no network), built section by
/// section. Problems with the inputs are collected and listed at the top instead of failing the page.
/// </summary>
public sealed class HtmlPage(string title)
{
    private readonly StringBuilder _body = new();
    private readonly List<string> _problems = [];

    private const string Style = """
        body { font-family: "DejaVu Sans", sans-serif; margin: 24px; color: #222; max-width: 1400px; }
        h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ccc; } h3 { font-size: 15px; }
        table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
        th { background: #f0f0f0; } .problems { background: #fff4e5; border: 1px solid #f0b060; padding: 8px 16px; }
        figure { display: inline-block; margin: 6px; vertical-align: top; } figcaption { font-size: 12px; color: #555; }
        code { font-size: 12px; word-break: break-all; }
        """;

    public void Problem(string text) => _problems.Add(text);

    public void Heading(string text, int level = 2) => _body.Append($"<h{level}>{Escape(text)}</h{level}>\n");

    public void Paragraph(string text) => _body.Append($"<p>{Escape(text)}</p>\n");

    /// <summary>A table; cells that parse as numbers are right-aligned.</summary>
    public void Table(string id, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        _body.Append($"<table id=\"{id}\"><thead><tr>");
        foreach (var h in header) _body.Append($"<th>{Escape(h)}</th>");
        _body.Append("</tr></thead><tbody>\n");
        foreach (var row in rows)
        {
            _body.Append("<tr>");
            foreach (var cell in row)
                _body.Append(double.TryParse(cell.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture, out _)
                    ? $"<td class=\"num\">{Escape(cell)}</td>" : $"<td>{Escape(cell)}</td>");
            _body.Append("</tr>\n");
        }
        _body.Append("</tbody></table>\n");
    }

    /// <summary>A PNG embedded as a data URI, with a caption.</summary>
    public void Image(string id, byte[] png, string caption, int? displayWidth = null)
    {
        var width = displayWidth is int w ? $" width=\"{w}\"" : "";
        _body.Append($"<figure><img id=\"{id}\"{width} alt=\"{Escape(caption)}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\">"
            + $"<figcaption>{Escape(caption)}</figcaption></figure>\n");
    }

    public string Render()
    {
        var page = new StringBuilder($"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{Escape(title)}</title><style>{Style}</style></head><body>\n");
        page.Append($"<h1>{Escape(title)}</h1>\n");
        if (_problems.Count > 0)
        {
            page.Append("<div class=\"problems\" id=\"problems\"><b>Missing or unreadable:</b><ul>");
            foreach (var p in _problems) page.Append($"<li>{Escape(p)}</li>");
            page.Append("</ul></div>\n");
        }
        return page.Append(_body).Append("</body></html>\n").ToString();
    }

    public IReadOnlyList<string> Problems => _problems;

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
