using Herald.Endpoints;
using Herald.Payloads;

namespace Herald.Server.Portal.Pages;

/// <summary>
/// The event catalogue: every event type Herald notifies, by payload format, each with an example of
/// the body an endpoint of that format receives (as <c>GET /v1/event_types/{type}</c> answers it).
/// </summary>
public sealed class EventTypesModel : PortalPageModel
{
    public static IEnumerable<(PayloadFormat Format, IReadOnlyList<(string Type, string Example)> Types)> Catalogue =>
        PayloadFormats.All.Select(format => (format,
            (IReadOnlyList<(string, string)>)format.EventTypes().Select(type => (type, PayloadExamples.Render(format, type)!)).ToList()));

    /// <summary>What each format is, in a line (named by its heading, the format's name in the API).</summary>
    public static string Describe(PayloadFormat format) => format switch
    {
        PayloadFormat.Transaction => "the whole transaction, camelCase; only HTTP 200 counts as received, retried hourly by default",
        PayloadFormat.Point => "the Point payment intent: payment only when FINISHED, ticket_number only for site mla",
        _ => "thin events: the receiver GETs /v1/payment_orders/<entity_id> for the order itself",
    };
}
