using System.Net;
using System.Text;
using Herald.Receiver.Tests.Infrastructure;

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

    /// <summary>Answers every request with one status and body.</summary>
    private sealed class Refusing(HttpStatusCode status, string body, string type) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, type) });
    }

    [Fact]
    public async Task AnErrorAnswer_InHeraldsShape_IsQuotedByItsMessages_AndAnyOtherAnswer_NotAtAll()
    {
        using var herald = new HttpClient(new Refusing(HttpStatusCode.NotFound,
            """{"statusCode":404,"message":["payment_order po_9 not found"],"error":"Not found"}""", "application/json")) { BaseAddress = new Uri("https://herald.example") };
        var notFound = await Assert.ThrowsAsync<HttpRequestException>(() => new HeraldClient(herald, "hk_test").GetPaymentOrderAsync("po_9"));
        Assert.Equal("Herald answered 404 to GET v1/payment_orders/po_9: payment_order po_9 not found", notFound.Message);
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);

        // A proxy's page (its hosts, a token in a link): its size alone, whatever it holds.
        var page = "<html><body>upstream 10.1.2.3 failed; debug token=secret" + new string('x', 100_000) + "</body></html>";
        using var proxy = new HttpClient(new Refusing(HttpStatusCode.BadGateway, page, "text/html")) { BaseAddress = new Uri("https://herald.example") };
        var badGateway = await Assert.ThrowsAsync<HttpRequestException>(() => new HeraldClient(proxy, "hk_test").GetTransactionAsync("t-1"));
        Assert.Equal(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Herald answered 502 to GET v1/transactions/t-1 (its body, {Encoding.UTF8.GetByteCount(page):N0} bytes, is not in Herald's error shape, so it is not quoted)"),
            badGateway.Message);
        Assert.DoesNotContain("secret", badGateway.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"statusCode":500,"message":["a\ud800b"],"error":"x"}""", " (its body, ")]
    [InlineData("""{"statusCode":500,"message":["first\r\nforged log line"],"error":"x"}""", ": first  forged log line")]
    public async Task AnErrorAnswerShapedLikeHeralds_ThatIsNoUnicodeOrBreaksLines_IsStillAnHttpRequestException_OnOneLine(string body, string said)
    {
        using var http = new HttpClient(new Refusing(HttpStatusCode.InternalServerError, body, "application/json")) { BaseAddress = new Uri("https://herald.example") };
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => new HeraldClient(http, "hk_test").GetPaymentOrderAsync("po_1"));
        Assert.Contains(said, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("""{"id":"t-1","status":"\ud800 secret"}""", "lone surrogate")]
    [InlineData("""{"internalId":"t-1","status":"COMPLETED","status":"secret"}""", "status")]
    [InlineData("""["secret"]""", "not a JSON object")]
    [InlineData("null", "not a JSON object")]
    [InlineData("secret", "invalid start of a value")]
    public async Task AnAnswerThatIsNoJsonObjectTheModelsRead_IsAJsonException_NamingTheReadAndWhy_NotTheBody(string body, string why)
    {
        using var http = new HttpClient(new AnsweringApi(body)) { BaseAddress = new Uri("https://herald.example") };
        var client = new HeraldClient(http, "hk_test");

        // Read whole when it arrives: never an error of another kind later, from the model or the caller's own look-ups.
        var e = await Assert.ThrowsAsync<System.Text.Json.JsonException>(() => client.GetTransactionAsync("t-1"));
        Assert.StartsWith("Herald's answer to GET v1/transactions/t-1 is no JSON object the kit can read: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }
}
