using Herald.Server.Auth;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Hosting;

/// <summary>
/// Headers on every <c>/v1</c> answer, errors included: answers carry secrets, keys and payloads,
/// so no cache (a proxy's, a browser's) keeps them, and none is read as another type than it says.
/// </summary>
internal static class ApiHeaders
{
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (Caller.IsApi(context.Request))
        {
            // When the answer starts: an error's answer clears the headers set before it.
            context.Response.OnStarting(static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                headers.CacheControl = "no-store";
                headers.XContentTypeOptions = "nosniff";
                return Task.CompletedTask;
            }, context.Response);
        }
        return next(context);
    }
}
