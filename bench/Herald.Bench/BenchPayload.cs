using System.Text;
using System.Text.Json.Nodes;

namespace Herald.Bench;

/// <summary>
/// The 600-byte JSON body every contender sends: a transaction as Herald's transaction format
/// renders it, padded so that Herald's payload and the raw and Hangfire bodies are the same size.
/// </summary>
internal static class BenchPayload
{
    public const int Bytes = 600;

    private static readonly int Padding = ComputePadding();

    /// <summary>A transaction document without its status (the recorder sets it).</summary>
    public static JsonObject Transaction(string internalId) => Document(internalId, new string('x', Padding));

    /// <summary>The body the raw client and the Hangfire jobs post.</summary>
    public static byte[] Body { get; } = RawBody();

    private static JsonObject Document(string internalId, string description) => new()
    {
        ["internalId"] = internalId,
        ["paymentAmount"] = 130,
        ["currency"] = "BRL",
        ["country"] = "BR",
        ["merchantReference"] = "order-" + internalId,
        ["customer"] = new JsonObject { ["name"] = "John Doe", ["email"] = "john@email.test" },
        ["description"] = description,
    };

    private static int ComputePadding()
    {
        var sample = Document(Ids.HeraldId.NewUuid(TimeProvider.System), "");
        sample["status"] = "INIT";
        return Math.Max(0, Bytes - Encoding.UTF8.GetByteCount(sample.ToJsonString()));
    }

    private static byte[] RawBody()
    {
        var doc = Transaction(Ids.HeraldId.NewUuid(TimeProvider.System));
        doc["status"] = "INIT";
        return Encoding.UTF8.GetBytes(doc.ToJsonString());
    }
}
