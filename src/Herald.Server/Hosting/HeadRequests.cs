using Microsoft.AspNetCore.Http;

namespace Herald.Server.Hosting;

/// <summary>
/// HEAD is answered wherever GET is, with GET's status and headers and no body (RFC 9110 §9.3.2):
/// a monitor checking <c>/healthz</c>, a client probing a resource. The request is routed as a GET
/// and made a HEAD again just before the answer starts, so that the server sends the head alone.
/// </summary>
internal static class HeadRequests
{
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (HttpMethods.IsHead(context.Request.Method))
        {
            context.Request.Method = HttpMethods.Get;
            context.Response.OnStarting(() =>
            {
                context.Request.Method = HttpMethods.Head;
                return Task.CompletedTask;
            });
        }
        return next(context);
    }
}
