using System.Net;
using System.Text;

namespace Herald.Receiver.Tests.Infrastructure;

/// <summary>Herald's API as a client sees it: every read answered 200 with <paramref name="body"/>, whatever it is.</summary>
public sealed class AnsweringApi(string body) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
}
