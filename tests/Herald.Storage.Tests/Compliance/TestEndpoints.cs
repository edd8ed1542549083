using Herald.Endpoints;
using Herald.Ids;
using Herald.Retry;
using Herald.Signing;
using Herald.Storage.Model;

namespace Herald.Storage.Tests.Compliance;

/// <summary>Endpoints as the storage tests make them: any 2xx succeeds, exponential retries, a 7 s timeout, one fresh secret.</summary>
internal static class TestEndpoints
{
    public static Endpoint New(string merchantId, DateTimeOffset at, TimeProvider time, string url = "https://merchant.example/hooks",
        PayloadFormat format = PayloadFormat.Thin, string source = EndpointSources.Api) => new()
    {
        Id = HeraldId.New(HeraldId.Endpoint, time),
        MerchantId = merchantId,
        Url = url,
        Format = format,
        Success = SuccessRule.Any2xx,
        Retry = RetryPolicy.Exponential,
        TimeoutSeconds = 7,
        Source = source,
        CreatedAt = at,
        UpdatedAt = at,
        Secrets = [WebhookSignature.NewSecret()],
    };
}
