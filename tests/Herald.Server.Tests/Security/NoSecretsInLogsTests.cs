using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Security;

/// <summary>A full run's logs, errors and OpenAPI document carry no secret, key or payload.</summary>
public sealed partial class NoSecretsInLogsTests
{
    private sealed class CapturingProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Capturing(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Capturing(CapturingProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                owner.Lines.Enqueue($"{logLevel} {category} {formatter(state, exception)} {structured} {exception}");
            }
        }
    }

    [Fact]
    public async Task AFullRun_LogsNoKeysSecretsOrPayloads()
    {
        var logs = new CapturingProvider();
        await using var receiver = await TestReceiver.StartAsync();
        await using var herald = await HeraldHost.StartAsync(configure: b =>
        {
            b.Logging.AddProvider(logs);
            b.Logging.SetMinimumLevel(LogLevel.Trace);
            b.Logging.AddFilter("Herald", LogLevel.Trace);
        });
        using var merchant = await herald.NewMerchantAsync();
        var key = merchant.DefaultRequestHeaders.Authorization!.Parameter!;
        var (endpoint, secret) = await merchant.AddEndpointAsync(receiver.Url, "transaction");
        var rotated = (await merchant.PostJsonAsync($"/v1/endpoints/{endpoint}/rotate_secret", new { }, 200)).Str("secret");
        receiver.Status = 500;
        // Personal data of its own: the seed's example values are public, in the event types' examples
        // and the OpenAPI document's webhooks.
        var transaction = Merchant.SeedTransaction();
        transaction["customer"]!["name"] = "Jane Tester";
        transaction["customer"]!["email"] = "jane@tester.test";
        transaction["customer"]!["identify"]!["number"] = "99120177Q";
        var id = (await merchant.PostJsonAsync("/v1/transactions", transaction)).Str("internalId");
        await receiver.WaitForAsync(1);
        receiver.Status = 200;
        var n = (await merchant.NotificationsAsync($"entity_id={id}"))[0]!.Str("id");
        await merchant.PostJsonAsync($"/v1/notifications/{n}/resend", new { }, 202);
        await receiver.WaitForAsync(2);
        await merchant.MoveAsync("transactions", id, "NOPE", expectedStatus: 400);
        using var wrong = herald.As("hk_wrong_key_value_123");
        await wrong.GetAsync("/v1/notifications");
        var openApi = await herald.Client.GetStringAsync("/openapi/v1.json");
        // Whatever the machine's load, the run's own lines are in before they are read: the failed
        // first attempt's and the resend's, each naming the notification.
        await HeraldHost.EventuallyAsync(() => Task.FromResult(
            logs.Lines.Any(l => l.Contains($"Notification {n} of event", StringComparison.Ordinal))
            && logs.Lines.Any(l => l.Contains($"Manual resend of notification {n}", StringComparison.Ordinal))));

        var text = string.Join('\n', logs.Lines);
        foreach (var secretValue in new[] { key, secret, rotated, HeraldHost.AdminKey, "hk_wrong_key_value_123", "Jane Tester", "jane@tester.test", "99120177Q" })
        {
            Assert.DoesNotContain(secretValue, text, StringComparison.Ordinal);
            Assert.DoesNotContain(secretValue, openApi, StringComparison.Ordinal);
        }
        Assert.DoesNotMatch(KeyLike(), openApi);
    }

    [GeneratedRegex(@"(whsec_[A-Za-z0-9+/=]{20,})|(hk_[A-Za-z0-9]{20,})")]
    private static partial Regex KeyLike();
}
