using System.Text;
using System.Text.Json.Nodes;
using FsCheck.Xunit;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;
using Herald.Payloads;

namespace Herald.Core.Tests.Payloads;

/// <summary>
/// The transaction format's body is its event's snapshot: a receiver reads in it what the snapshot
/// says, names and addresses as written. (That it is the snapshot's stored text is checked where
/// changes write that text: EntityChangeTests.)
/// </summary>
public class TransactionBodyTextTests
{
    private static readonly DateTimeOffset At = new(2021, 11, 29, 17, 10, 37, TimeSpan.Zero);

    [Property(MaxTest = 1000)]
    public bool TheBody_SaysWhatTheSnapshotSays(string name, string reference, int amount)
    {
        var evt = Transaction(name, reference, amount);
        var body = PayloadRenderer.RenderText(PayloadFormat.Transaction, evt);
        // Text that is not valid UTF-16 (a lone surrogate) cannot come from a parsed request, and
        // cannot be written as it is (it is written as U+FFFD).
        var wellFormed = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(name ?? "")) == (name ?? "")
            && Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(reference ?? "")) == (reference ?? "");
        return !wellFormed || JsonNode.DeepEquals(JsonNode.Parse(body), evt.Snapshot);
    }

    [Theory]
    [InlineData("John Doe", "order-17")]
    [InlineData("João Conceição", "pedido nº 17")]
    [InlineData("Zoë Łukasiewicz 支付", "order-17")]
    [InlineData("John Doe", "a<b & c+d 'x' `y`")]
    [InlineData("John \"JD\" Doe", "C:\\orders\n17")]
    public void NamesAndReferences_ArriveAsWritten(string name, string reference)
    {
        var evt = Transaction(name, reference, 130);
        var body = PayloadRenderer.RenderText(PayloadFormat.Transaction, evt);

        Assert.Equal(name, JsonNode.Parse(body)!["customer"]!["name"]!.GetValue<string>());
        Assert.Equal(reference, JsonNode.Parse(body)!["merchantReference"]!.GetValue<string>());
        if (!name.Contains('"') && !reference.Contains('\\'))
        {
            // Accents and & ' + < > ` as they are, never as \u escapes.
            Assert.Contains($"\"name\":\"{name}\"", body, StringComparison.Ordinal);
            Assert.Contains($"\"merchantReference\":\"{reference}\"", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void OnlyTheTransactionFormat_SendsTheSnapshot()
    {
        Assert.True(PayloadRenderer.SendsSnapshot(PayloadFormat.Transaction));
        Assert.False(PayloadRenderer.SendsSnapshot(PayloadFormat.Thin));
        Assert.False(PayloadRenderer.SendsSnapshot(PayloadFormat.Point));
        Assert.False(PayloadRenderer.SendsSnapshot(PayloadFormat.Operator));
    }

    private static EntityEvent Transaction(string? name, string? reference, int amount)
    {
        var doc = new JsonObject
        {
            ["internalId"] = "0192a3b4-0000-7000-8000-000000000001",
            ["paymentAmount"] = amount,
            ["currency"] = "BRL",
            ["customer"] = new JsonObject { ["name"] = name, ["phone"] = "+5511999990000" },
            ["merchantReference"] = reference,
            ["status"] = "INIT",
        };
        return new EntityEvent("evt_1", "mer_1", EntityKind.Transaction, "0192a3b4-0000-7000-8000-000000000001",
            EventTypes.For(EntityKind.Transaction, "INIT"), null, "INIT", 1, At, doc);
    }
}
