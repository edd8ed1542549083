using System.Globalization;
using Herald.Errors;
using Herald.Server.Auth;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Api;

internal static class StatsApi
{
    /// <summary>The window a call may ask for, at most: a week of hours.</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(7);

    /// <summary>How much longer than <see cref="MaxWindow"/> a window with no <c>until</c> may ask for, the time a request takes to arrive.</summary>
    private static readonly TimeSpan CallersMoment = TimeSpan.FromMinutes(1);

    /// <summary>The window a call gets when it names no start: the day before its end.</summary>
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(24);

    public static void MapStats(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/stats", async (HttpContext http, StatsReads reads, TimeProvider time, string? since, string? until) =>
        {
            var end = Validation.Time(until, "until") ?? time.GetUtcNow();
            // The default window reaches back a day, or to the first time there is.
            var start = Validation.Time(since, "since")
                ?? (end - DateTimeOffset.MinValue < DefaultWindow ? DateTimeOffset.MinValue : end - DefaultWindow);
            if (since is null && start == end)
            {
                // Nothing lies before the calendar's first moment: no window ends there.
                throw new HeraldException(ErrorKind.BadRequest, "until must be after 0001-01-01T00:00:00Z, the first time there is");
            }
            Validation.Window(start, end);
            // "The last 7 days" reckoned by the caller (since = its now less 7 days) reaches this
            // node a moment later than 7 days back: taken as the last 7 days, not refused.
            if (until is null && end - start > MaxWindow && end - start <= MaxWindow + CallersMoment)
            {
                start = end - MaxWindow;
            }
            if (end - start > MaxWindow)
            {
                throw new HeraldException(ErrorKind.BadRequest, string.Create(CultureInfo.InvariantCulture, $"since may be at most {MaxWindow.TotalDays:N0} days before until (now, when until is not given)"));
            }
            var stats = await reads.ReadAsync(Caller.Of(http).Merchant, start, end, http.RequestAborted);
            return JsonResults.Ok(StatsResponse.From(stats));
        })
        .WithTags("Stats")
        .WithName("getStats")
        .Refuses(StatusCodes.Status429TooManyRequests, $"{StatsReads.PerMerchant} stats reads of the merchant's are under way on this node already")
        .Produces<StatsResponse>()
        .WithSummary("How delivery went over a window (the last 24 hours unless since/until say otherwise, at most 7 days): attempts an hour by outcome, and per endpoint its attempts, success rate and p50/p95 duration.");
    }
}

/// <summary>
/// A merchant's delivery stats (<see cref="IHeraldStore.DeliveryStatsAsync"/>), for the API and the
/// portal's overview. A read over hours not read before goes over every attempt of the merchant in
/// them, up to a week of them: a merchant may have <see cref="PerMerchant"/> under way at once on a
/// node, so that its requests, even within its rate limit, cannot keep the database busy for
/// everyone else.
/// </summary>
public sealed class StatsReads(IHeraldStore store, TimeProvider time)
{
    public const int PerMerchant = 2;

    private readonly Delivery.MerchantTurns _turns = new(PerMerchant,
        $"{PerMerchant} stats reads of this merchant are under way already; retry once one has its answer");

    public async Task<DeliveryStats> ReadAsync(string merchantId, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        using (_turns.Take(merchantId))
        {
            return await store.DeliveryStatsAsync(merchantId, since, until, time.GetUtcNow(), cancellationToken);
        }
    }
}

public sealed record StatsResponse(string Since, string Until, IReadOnlyList<HourlyAttemptsResponse> Hours, IReadOnlyList<EndpointStatsResponse> Endpoints)
{
    public static StatsResponse From(DeliveryStats stats) => new(
        EndpointResponse.Time(stats.Since), EndpointResponse.Time(stats.Until),
        stats.Hours.Select(h => new HourlyAttemptsResponse(EndpointResponse.Time(h.Hour), h.Succeeded, h.Failed)).ToList(),
        stats.Endpoints.Select(e => new EndpointStatsResponse(e.EndpointId, e.Attempts, e.Succeeded, Rate(e), e.P50Ms, e.P95Ms)).ToList());

    /// <summary>The share of attempts that succeeded, to four places: 1 only when every one did, 0 only when none did.</summary>
    public static double Rate(EndpointStats stats) => EndpointStats.Rounded(stats.SuccessRate, 4);
}

public sealed record HourlyAttemptsResponse(string Hour, int Succeeded, int Failed);

public sealed record EndpointStatsResponse(string EndpointId, int Attempts, int Succeeded, double SuccessRate, int P50Ms, int P95Ms);

/// <summary>
/// Says in the log what kept a stats read from keeping a merchant's closed hours (a database that
/// takes no writes, its disk full, a lock or statement timeout): the read answered from its counts,
/// and the next read counts those hours again. One line without a stack, once a minute at most,
/// with how many more came meanwhile.
/// </summary>
public sealed partial class StatsKeepingLog(ILogger<StatsKeepingLog> logger, TimeProvider time)
{
    private readonly Herald.Errors.QuietLog<int> _quiet = new(TimeSpan.FromMinutes(1), time);

    public void Failed(string merchantId, Exception error)
    {
        if (_quiet.ShouldWrite(0, out var held))
        {
            var said = error.Message.Split('\n', 2)[0].Trim();
            LogFailed(logger, merchantId, $"{error.GetType().Name}: {said}", held);
        }
    }

    [LoggerMessage(3003, LogLevel.Warning, "Stats of merchant {MerchantId}: its closed hours' figures could not be kept ({Why}); the read answered from their attempts, and the next read counts them again (said once a minute: {Held} more since)")]
    private static partial void LogFailed(ILogger logger, string merchantId, string why, int held);
}
