using System.Text.Json.Nodes;
using Herald.Entities;

namespace Herald.Core.Tests.Entities;

public class EntityDocumentsTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 30, 45, 123, TimeSpan.Zero);

    [Theory]
    [InlineData(EntityKind.PaymentIntent, "state")]
    [InlineData(EntityKind.PaymentOrder, "status")]
    [InlineData(EntityKind.Transaction, "status")]
    public void WithChange_SetsTheKindsStateField(EntityKind kind, string field)
    {
        var document = new JsonObject { [field] = StateMachines.For(kind).Initial };
        var to = StateMachines.For(kind).NextStates(StateMachines.For(kind).Initial).First();

        var changed = EntityDocuments.WithChange(kind, document, to, null, Now);

        Assert.Equal(to, changed[field]!.GetValue<string>());
        Assert.Equal(to, EntityDocuments.StateOf(kind, changed));
    }

    [Fact]
    public void WithChange_MergesNestedObjectsFieldByField()
    {
        var document = Intent();
        var data = new JsonObject
        {
            ["additional_info"] = new JsonObject { ["ticket_number"] = "39SHDKKDJ" },
            ["payment"] = new JsonObject { ["id"] = 123456789, ["state"] = "approved", ["type"] = "credit_card" },
        };

        var changed = EntityDocuments.WithChange(EntityKind.PaymentIntent, document, "FINISHED", data, Now);

        var info = changed["additional_info"]!.AsObject();
        Assert.Equal("information", info["external_reference"]!.GetValue<string>());
        Assert.Equal("39SHDKKDJ", info["ticket_number"]!.GetValue<string>());
        Assert.Equal("approved", changed["payment"]!["state"]!.GetValue<string>());
        Assert.Equal(100, changed["amount"]!.GetValue<int>());
    }

    [Fact]
    public void WithChange_ReplacesScalarsAndArrays()
    {
        var document = new JsonObject
        {
            ["status"] = "INIT",
            ["paymentAmount"] = 130,
            ["orderDetails"] = new JsonArray(new JsonObject { ["productName"] = "a" }, new JsonObject { ["productName"] = "b" }),
        };
        var data = new JsonObject
        {
            ["paymentAmount"] = 99,
            ["orderDetails"] = new JsonArray(new JsonObject { ["productName"] = "c" }),
        };

        var changed = EntityDocuments.WithChange(EntityKind.Transaction, document, "PROCESSING", data, Now);

        Assert.Equal(99, changed["paymentAmount"]!.GetValue<int>());
        var line = Assert.Single(changed["orderDetails"]!.AsArray());
        Assert.Equal("c", line!["productName"]!.GetValue<string>());
    }

    [Fact]
    public void WithChange_StateInData_IsOverriddenByTarget()
    {
        var data = new JsonObject { ["state"] = "ERROR" };

        var changed = EntityDocuments.WithChange(EntityKind.PaymentIntent, Intent(), "FINISHED", data, Now);

        Assert.Equal("FINISHED", changed["state"]!.GetValue<string>());
    }

    [Fact]
    public void WithChange_DoesNotModifyItsInputs()
    {
        var document = Intent();
        var data = new JsonObject { ["additional_info"] = new JsonObject { ["ticket_number"] = "39SHDKKDJ" } };
        var documentBefore = document.ToJsonString();
        var dataBefore = data.ToJsonString();

        var changed = EntityDocuments.WithChange(EntityKind.PaymentIntent, document, "CANCELED", data, Now);
        changed["additional_info"]!["ticket_number"] = "changed later";

        Assert.Equal(documentBefore, document.ToJsonString());
        Assert.Equal(dataBefore, data.ToJsonString());
        Assert.Equal("OPEN", document["state"]!.GetValue<string>());
    }

    [Fact]
    public void WithChange_PaymentOrder_StampsUpdatedAt()
    {
        var document = new JsonObject { ["id"] = "rcAaNfKdKJRmrnj4l5", ["status"] = "OPENED", ["updated_at"] = "2025-01-01T00:00:00.000Z" };

        var changed = EntityDocuments.WithChange(EntityKind.PaymentOrder, document, "CLOSED", null, Now);

        Assert.Equal("2025-06-01T12:30:45.123Z", changed["updated_at"]!.GetValue<string>());
    }

    [Fact]
    public void FormatPointTime_WritesUtcInSeedFormat()
    {
        var local = new DateTimeOffset(2021, 11, 29, 14, 10, 37, 999, TimeSpan.FromHours(-3));

        Assert.Equal("2021-11-29 17:10:37", EntityDocuments.FormatPointTime(local));
    }

    [Fact]
    public void StateOf_DocumentWithoutState_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => EntityDocuments.StateOf(EntityKind.Transaction, new JsonObject()));
    }

    [Theory]
    [InlineData(EntityKind.PaymentIntent, "id")]
    [InlineData(EntityKind.PaymentOrder, "id")]
    [InlineData(EntityKind.Transaction, "internalId")]
    public void IdField_IsTheSeedsIdName(EntityKind kind, string field)
    {
        Assert.Equal(field, EntityDocuments.IdField(kind));
    }

    private static JsonObject Intent() => new()
    {
        ["id"] = "abcdef123-8ab5-4139-9aa3-abcd123",
        ["amount"] = 100,
        ["caller_id"] = 9876543,
        ["client_id"] = 1234567890,
        ["created_at"] = "2021-11-29 17:10:37",
        ["site"] = "mla",
        ["state"] = "OPEN",
        ["additional_info"] = new JsonObject { ["external_reference"] = "information" },
    };
}
