using System.Diagnostics.Tracing;
using Herald.Errors;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Hosting;

/// <summary>
/// Puts the OTLP exporter's own warnings and errors (the collector unreachable, refusing, timing
/// out) in Herald's log: the exporter reports them only as events of its EventSource, which no one
/// reads, so a node sending its traces nowhere said nothing. Each kind is logged at most once a
/// <see cref="Quiet"/>, with how many like it came meanwhile; an exception in one is cut to its
/// first line (its type and message), as the stack of the exporter's own retry says nothing more.
/// </summary>
internal sealed partial class TraceExportLog(ILogger<TraceExportLog> logger, TimeProvider time) : IHostedService, IDisposable
{
    /// <summary>The exporter's EventSource.</summary>
    public const string SourceName = "OpenTelemetry-Exporter-OpenTelemetryProtocol";

    /// <summary>How long the same kind of report stays out of the log after one was written.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);

    private readonly QuietLog<int> _quiet = new(Quiet, time);
    private Listener? _listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new Listener(this);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _listener?.Dispose();
        _listener = null;
    }

    private void Report(EventWrittenEventArgs report)
    {
        if (!_quiet.ShouldWrite(report.EventId, out var held))
        {
            return;
        }
        if (held == 0)
        {
            ExportTrouble(logger, Describe(report));
        }
        else
        {
            ExportTroubleAgain(logger, Describe(report), held);
        }
    }

    /// <summary>The report's message with its values put in, each cut to its first line.</summary>
    internal static string Describe(EventWrittenEventArgs report)
    {
        var values = (report.Payload ?? []).Select(v => FirstLine(Convert.ToString(v, CultureInfo.InvariantCulture) ?? "")).ToArray<object?>();
        if (string.IsNullOrEmpty(report.Message))
        {
            return $"{report.EventName}: {string.Join(", ", values)}";
        }
        try
        {
            return string.Format(CultureInfo.InvariantCulture, report.Message, values);
        }
        catch (FormatException)
        {
            return $"{report.Message} ({string.Join(", ", values)})";
        }
    }

    private static string FirstLine(string text)
    {
        var end = text.AsSpan().IndexOfAny('\r', '\n');
        return end < 0 ? text : text[..end];
    }

    [LoggerMessage(5200, LogLevel.Warning, "Traces are not reaching the OpenTelemetry collector (OTEL_EXPORTER_OTLP_ENDPOINT): {Report}")]
    private static partial void ExportTrouble(ILogger logger, string report);

    [LoggerMessage(5201, LogLevel.Warning, "Traces are not reaching the OpenTelemetry collector (OTEL_EXPORTER_OTLP_ENDPOINT): {Report} (said once a minute: {Held} more like it since)")]
    private static partial void ExportTroubleAgain(ILogger logger, string report, int held);

    /// <summary>
    /// The listener itself: the runtime calls OnEventSourceCreated from EventListener's constructor,
    /// before a subclass's fields are set, so the log it reports to is looked up on each event.
    /// </summary>
    private sealed class Listener : EventListener
    {
        private readonly TraceExportLog? _log;

        public Listener(TraceExportLog log) => _log = log;

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == SourceName)
            {
                EnableEvents(eventSource, EventLevel.Warning);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventSource.Name == SourceName && eventData.Level <= EventLevel.Warning)
            {
                _log?.Report(eventData);
            }
        }
    }
}
