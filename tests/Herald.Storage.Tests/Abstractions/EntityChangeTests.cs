using System.Text.Json.Nodes;
using Herald.Entities;
using Herald.Events;
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
