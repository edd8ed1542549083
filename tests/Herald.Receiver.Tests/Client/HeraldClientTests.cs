using System.Net;
using System.Text;

namespace Herald.Receiver.Tests.Client;

/// <summary>Where the client sends its reads, wherever Herald is mounted.</summary>
public sealed class HeraldClientTests
{
    /// <summary>Answers every request with an empty object and notes where it went.</summary>
    private sealed class Noting : HttpMessageHandler
    {
        public List<Uri> Asked { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Asked.Add(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}", Encoding.UTF8, "application/json") });
        }
    }

    [Theory]
    [InlineData("https://herald.example", "https://herald.example/v1/payment_orders/po_1")]
    [InlineData("https://herald.example/", "https://herald.example/v1/payment_orders/po_1")]
    [InlineData("https://example.com/herald", "https://example.com/herald/v1/payment_orders/po_1")]
    [InlineData("https://example.com/herald/", "https://example.com/herald/v1/payment_orders/po_1")]
    public async Task Reads_GoUnderTheBaseAddress_WithOrWithoutItsTrailingSlash(string baseAddress, string expected)
    {
        var noting = new Noting();
        using var http = new HttpClient(noting) { BaseAddress = new Uri(baseAddress) };
        await new HeraldClient(http, "hk_test").GetPaymentOrderAsync("po_1");
        Assert.Equal(expected, Assert.Single(noting.Asked).AbsoluteUri);
    }
}
