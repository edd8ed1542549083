using System.Globalization;
using System.Net;
using System.Text;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Html;

namespace Herald.Server.Portal;

/// <summary>Server-rendered SVG charts: no script, readable by screen readers through their titles.</summary>
public static class PortalCharts
{
    public const string SucceededColor = "#1d7a46";
    public const string FailedColor = "#b3261e";
    public const string P50Color = "#1f5fd1";
    public const string P95Color = "#8a5a00";

    /// <summary>Attempts per hour, stacked by outcome.</summary>
    public static IHtmlContent Hourly(IReadOnlyList<HourlyAttempts> hours)
    {
        const int width = 720, height = 220, left = 40, bottom = 24, top = 10;
        var max = Math.Max(1, hours.Count == 0 ? 1 : hours.Max(h => h.Succeeded + h.Failed));
        var slot = (double)(width - left) / Math.Max(1, hours.Count);
        var plot = height - bottom - top;
        var svg = Open(width, height, "hourly-chart", $"Attempts per hour over the last {hours.Count} hours, succeeded and failed");
        Striped(svg, "hourly-chart-failed", FailedColor);
        // Each tick once: at a maximum of 1 the halfway tick is 0 again, and two labels were drawn on one another.
        foreach (var tick in new[] { 0, max / 2, max }.Distinct())
        {
            var y = top + plot - (double)tick / max * plot;
            svg.Append(Invariant($"<line x1=\"{left}\" x2=\"{width}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#dde1e8\"/>"));
            svg.Append(Invariant($"<text x=\"{left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\" font-size=\"11\" fill=\"#5b6475\">{tick}</text>"));
        }
        for (var i = 0; i < hours.Count; i++)
        {
            var h = hours[i];
            var x = left + i * slot + slot * 0.15;
            var w = slot * 0.7;
            var ok = (double)h.Succeeded / max * plot;
            var bad = (double)h.Failed / max * plot;
            var label = Encode($"{h.Hour.UtcDateTime:HH}:00 UTC: {h.Succeeded} succeeded, {h.Failed} failed");
            svg.Append(Invariant($"<g data-hour=\"{h.Hour.UtcDateTime:HH}\" data-succeeded=\"{h.Succeeded}\" data-failed=\"{h.Failed}\"><title>{label}</title>"));
            svg.Append(Invariant($"<rect x=\"{x:0.#}\" y=\"{top + plot - ok:0.#}\" width=\"{w:0.#}\" height=\"{ok:0.#}\" fill=\"{SucceededColor}\"/>"));
            svg.Append(Invariant($"<rect x=\"{x:0.#}\" y=\"{top + plot - ok - bad:0.#}\" width=\"{w:0.#}\" height=\"{bad:0.#}\" fill=\"url(#hourly-chart-failed-striped)\"/></g>"));
            if (i % 6 == 0)
            {
                svg.Append(Invariant($"<text x=\"{x:0.#}\" y=\"{height - 6}\" font-size=\"11\" fill=\"#5b6475\">{h.Hour.UtcDateTime:HH}:00</text>"));
            }
        }
        return Close(svg);
    }

    /// <summary>One horizontal bar per endpoint: its success rate.</summary>
    public static IHtmlContent SuccessRates(IReadOnlyList<(string Label, EndpointStats Stats)> endpoints) =>
        Bars("success-chart", "Success rate per endpoint", endpoints,
            [(e => e.SuccessRate * 100, SucceededColor, "success", false)], 100, v => PortalFormat.Percent(v / 100));

    /// <summary>Two horizontal bars per endpoint: p50 and p95 latency.</summary>
    public static IHtmlContent Latency(IReadOnlyList<(string Label, EndpointStats Stats)> endpoints) =>
        Bars("latency-chart", "p50 and p95 latency per endpoint, in milliseconds", endpoints,
            [(e => e.P50Ms, P50Color, "p50", false), (e => e.P95Ms, P95Color, "p95", true)],
            Math.Max(1, endpoints.Count == 0 ? 1 : endpoints.Max(e => e.Stats.P95Ms)), v => Invariant($"{v:0} ms"));

    private static HtmlString Bars(string id, string title, IReadOnlyList<(string Label, EndpointStats Stats)> endpoints,
        (Func<EndpointStats, double> Value, string Color, string Name, bool Striped)[] series, double max, Func<double, string> format)
    {
        const int width = 480, labelWidth = 180, bar = 16, gap = 12;
        var row = series.Length * bar + gap;
        var height = Math.Max(1, endpoints.Count) * row + gap;
        var svg = Open(width, height, id, title);
        // A label ends where the bars begin, however wide its letters run.
        svg.Append(Invariant($"<defs><clipPath id=\"{id}-labels\"><rect x=\"0\" y=\"0\" width=\"{labelWidth - 8}\" height=\"{height}\"/></clipPath></defs>"));
        foreach (var striped in series.Where(x => x.Striped))
        {
            Striped(svg, $"{id}-{striped.Name}", striped.Color);
        }
        var scale = (width - labelWidth - 70) / max;
        for (var i = 0; i < endpoints.Count; i++)
        {
            var (label, stats) = endpoints[i];
            var y = gap + i * row;
            svg.Append(Invariant($"<text x=\"0\" y=\"{y + bar}\" font-size=\"13\" fill=\"#1d2330\" clip-path=\"url(#{id}-labels)\">{Encode(Shorten(label))}</text>"));
            for (var s = 0; s < series.Length; s++)
            {
                var value = series[s].Value(stats);
                var by = y + s * bar;
                svg.Append(Invariant($"<g data-series=\"{series[s].Name}\"><title>{Encode($"{label}: {series[s].Name} {format(value)}")}</title>"));
                svg.Append(Invariant($"<rect x=\"{labelWidth}\" y=\"{by}\" width=\"{Math.Max(1, value * scale):0.#}\" height=\"{bar - 2}\" fill=\"{(series[s].Striped ? $"url(#{id}-{series[s].Name}-striped)" : series[s].Color)}\"/>"));
                svg.Append(Invariant($"<text x=\"{labelWidth + Math.Max(1, value * scale) + 6:0.#}\" y=\"{by + bar - 3}\" font-size=\"13\" fill=\"#1d2330\">{Encode(format(value))}</text></g>"));
            }
        }
        return Close(svg);
    }

    /// <summary>Stripes in <paramref name="color"/> for one series (<c>{id}-striped</c>, <paramref name="id"/> naming the chart and the series): told apart by more than its colour.</summary>
    private static void Striped(StringBuilder svg, string id, string color) =>
        svg.Append(Invariant($"<defs><pattern id=\"{id}-striped\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"))
            .Append(Invariant($"<rect width=\"5\" height=\"5\" fill=\"{color}\"/><rect width=\"2\" height=\"5\" fill=\"#fff\"/></pattern></defs>"));

    private static StringBuilder Open(int width, int height, string id, string title) =>
        // In a box of its own that scrolls sideways on a narrow screen, rather than letters shrunk past reading.
        new StringBuilder().Append(Invariant(
            $"<div class=\"chart-scroll\"><svg id=\"{id}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{id}-title\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-title\">{Encode(title)}</title>"));

    private static HtmlString Close(StringBuilder svg) => new(svg.Append("</svg></div>").ToString());

    /// <summary>What a deleted endpoint's label ends with (its id before it): kept whole when the label is cut.</summary>
    public const string Deleted = " (deleted)";

    // At most 21 characters, so that the "…" of one cut short ends inside the labels' room.
    private static string Shorten(string text)
    {
        if (text.EndsWith(Deleted, StringComparison.Ordinal))
        {
            var id = text[..^Deleted.Length];
            return (id.Length <= 11 ? id : id[..10] + "…") + Deleted;
        }
        var bare = text.Replace("https://", "", StringComparison.Ordinal).Replace("http://", "", StringComparison.Ordinal);
        return bare.Length <= 21 ? bare : bare[..20] + "…";
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
