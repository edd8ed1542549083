using System.Text.Json.Nodes;
using FsCheck.Xunit;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;
using Herald.Payloads;

namespace Herald.Core.Tests.Payloads;

/// <summary>
/// The transaction format's body stands in for its event's snapshot text (kept once) only when the
/// two read the same, character for character, whatever the document's texts hold.
/// </summary>
public class SnapshotTextPropertyTests
{
    private static readonly DateTimeOffset At = new(2021, 11, 29, 17, 10, 37, TimeSpan.Zero);

    [Property(MaxTest = 1000)]
    public bool ABodyTakenForTheSnapshotText_IsTheSnapshotsText(string name, string reference, int amount)
    {
        var evt = Transaction(name, reference, amount);
        var body = PayloadRenderer.RenderText(PayloadFormat.Transaction, evt);
        return !PayloadRenderer.IsSnapshotText(PayloadFormat.Transaction, body) || body == evt.Snapshot.ToJsonString();
    }

    [Theory]
    [InlineData("John Doe", "order-17", true)]
    [InlineData("João Silva", "order-17", false)]
    [InlineData("John \"JD\" Doe", "order-17", false)]
    [InlineData("John Doe", "a<b & c+d", false)]
    [InlineData("John\nDoe", "C:\\orders", false)]
    public void APlainBody_StandsInForTheSnapshot_OthersAreRenderedApart(string name, string reference, bool standsIn)
    {
        var evt = Transaction(name, reference, 130);
        var body = PayloadRenderer.RenderText(PayloadFormat.Transaction, evt);

        // Any escape in the body is reason enough to render the snapshot apart (a line break or a
        // backslash happens to be written alike; a quote, a name's accent or an ampersand is not).
        Assert.Equal(standsIn, PayloadRenderer.IsSnapshotText(PayloadFormat.Transaction, body));
        Assert.True(!standsIn || body == evt.Snapshot.ToJsonString());
        if (name.Contains('ã') || name.Contains('"') || reference.Contains('&'))
        {
            Assert.NotEqual(body, evt.Snapshot.ToJsonString());
        }
    }

    [Fact]
    public void OnlyTheTransactionFormat_SendsTheSnapshot()
    {
        Assert.False(PayloadRenderer.IsSnapshotText(PayloadFormat.Thin, "{\"id\":\"evt_1\"}"));
    }

    private static EntityEvent Transaction(string? name, string? reference, int amount)
    {
        var doc = new JsonObject
        {
            ["internalId"] = "0192a3b4-0000-7000-8000-000000000001",
            ["paymentAmount"] = amount,
            ["currency"] = "BRL",
            ["customer"] = new JsonObject { ["name"] = name },
            ["merchantReference"] = reference,
            ["status"] = "INIT",
        };
        return new EntityEvent("evt_1", "mer_1", EntityKind.Transaction, "0192a3b4-0000-7000-8000-000000000001",
            EventTypes.For(EntityKind.Transaction, "INIT"), null, "INIT", 1, At, doc);
    }
}
