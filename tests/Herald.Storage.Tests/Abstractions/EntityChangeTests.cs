using System.Text.Json.Nodes;
using FsCheck.Xunit;
using Herald.Endpoints;
using Herald.Entities;
using Herald.Events;
using Herald.Payloads;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Storage.Tests.Abstractions;

public sealed class EntityChangeTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);

    private static EntityChange Change(JsonObject document, JsonObject? snapshot = null)
    {
        var entity = new Entity(EntityKind.PaymentOrder, "po-1", "mer_1", "OPENED", 1, null, document, At, At);
        var evt = new EntityEvent("evt_1", "mer_1", EntityKind.PaymentOrder, "po-1", "payment_order.opened", null, "OPENED", 1, At, snapshot ?? document);
        return new EntityChange(entity, 0, evt, [], null);
    }

    [Fact]
    public void TheDocumentAndItsSnapshot_AreOneText_WhenTheyAreOneObject()
    {
        var change = Change(new JsonObject { ["id"] = "po-1", ["status"] = "OPENED" });

        Assert.Equal("""{"id":"po-1","status":"OPENED"}""", change.DocumentJson());
        Assert.Same(change.DocumentJson(), change.SnapshotJson());
    }

    [Fact]
    public void Texts_KeepNamesAndAddressesAsWritten()
    {
        var change = Change(new JsonObject { ["id"] = "po-1", ["payer"] = "João <Zoë> & cia", ["phone"] = "+5511999990000" });

        Assert.Equal("""{"id":"po-1","payer":"João <Zoë> & cia","phone":"+5511999990000"}""", change.DocumentJson());
    }

    /// <summary>
    /// What lets the recorder hand a transaction's body over as its change's snapshot text: the
    /// change, left to write the snapshot itself, writes the body's very text, whatever it holds.
    /// </summary>
    [Property(MaxTest = 1000)]
    public bool TheSnapshotsText_IsTheTransactionBody_ItWouldOtherwiseBeGiven(string name, string reference, int amount)
    {
        var document = new JsonObject
        {
            ["internalId"] = "0192a3b4-0000-7000-8000-000000000001",
            ["paymentAmount"] = amount,
            ["customer"] = new JsonObject { ["name"] = name, ["phone"] = "+5511999990000" },
            ["merchantReference"] = reference,
            ["status"] = "INIT",
        };
        var entity = new Entity(EntityKind.Transaction, "0192a3b4-0000-7000-8000-000000000001", "mer_1", "INIT", 1, null, document, At, At);
        var evt = new EntityEvent("evt_1", "mer_1", EntityKind.Transaction, entity.Id, "TRANSACTION.INIT", null, "INIT", 1, At, document);
        var change = new EntityChange(entity, 0, evt, [], null);

        return change.SnapshotJson() == PayloadRenderer.RenderText(PayloadFormat.Transaction, evt);
    }

    [Fact]
    public void ASnapshotOfItsOwn_IsRenderedOnItsOwn()
    {
        var change = Change(new JsonObject { ["id"] = "po-1" }, new JsonObject { ["id"] = "po-1", ["at"] = 1 });

        Assert.Equal("""{"id":"po-1"}""", change.DocumentJson());
        Assert.Equal("""{"id":"po-1","at":1}""", change.SnapshotJson());
    }

    [Fact]
    public void ACopyWithAnotherEntityOrEvent_RendersTheirDocuments_NotTheOriginals()
    {
        var change = Change(new JsonObject { ["id"] = "po-1" });
        _ = change.SnapshotJson();

        var otherDocument = new JsonObject { ["id"] = "po-1", ["status"] = "CLOSED" };
        var withEntity = change with { Entity = change.Entity with { Document = otherDocument } };
        var withEvent = change with { Event = change.Event with { Snapshot = otherDocument } };

        Assert.Equal("""{"id":"po-1","status":"CLOSED"}""", withEntity.DocumentJson());
        Assert.Equal("""{"id":"po-1"}""", withEntity.SnapshotJson());
        Assert.Equal("""{"id":"po-1"}""", withEvent.DocumentJson());
        Assert.Equal("""{"id":"po-1","status":"CLOSED"}""", withEvent.SnapshotJson());
        Assert.Equal("""{"id":"po-1"}""", change.SnapshotJson());
    }

    [Fact]
    public void ARenderedChange_EqualsTheSameChangeNotYetRendered()
    {
        var notYet = Change(new JsonObject { ["id"] = "po-1" });
        var rendered = new EntityChange(notYet.Entity, notYet.ExpectedVersion, notYet.Event, notYet.Notifications, notYet.IdempotencyKey, notYet.TraceParent);
        _ = rendered.SnapshotJson();

        Assert.Equal(notYet, rendered);
        Assert.Equal(notYet.GetHashCode(), rendered.GetHashCode());
    }
}
