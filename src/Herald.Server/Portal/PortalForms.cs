using Herald.Errors;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Portal;

/// <summary>
/// A portal form is read before its antiforgery token is checked: a form the server cannot read
/// (a field holding the NUL character, say) would otherwise be refused as a token that could not be
/// found, and its sender told to reload a page that is not out of date.
/// </summary>
internal static class PortalForms
{
    public static async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (HttpMethods.IsPost(request.Method) && PortalServiceCollectionExtensions.IsPortal(request) && request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                // Kept by the request: the antiforgery check and the page read it from there.
                form = await request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                throw new HeraldException(ErrorKind.BadRequest, HoldsNul(e) ? NulRefused : $"The form could not be read: {e.Message}");
            }
            catch (Exception e) when (e is IOException or OperationCanceledException && context.RequestAborted.IsCancellationRequested)
            {
                // The browser went away while sending it: nobody is left to answer.
                return;
            }
            // A NUL the reader let through (sent as a raw byte, or in a multipart form's field).
            if (Herald.Server.Api.Validation.HoldsNul(form))
            {
                throw new HeraldException(ErrorKind.BadRequest, NulRefused);
            }
        }
        await next(context).ConfigureAwait(false);
    }

    private const string NulRefused = "A field of the form holds the NUL character (%00), which Herald does not take: remove it, then send the form again.";

    private static bool HoldsNul(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner.Message.Contains("null characters", StringComparison.Ordinal) || inner.Message.Contains("invalid characters", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
