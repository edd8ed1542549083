using System.Text;
using FsCheck.Xunit;
using Herald.Errors;
using Herald.Server.Api;
using Herald.Server.Json;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Tests.Api;

/// <summary>Whatever bytes arrive, parsing a body either succeeds or is a 400 with a message; it never fails otherwise.</summary>
public class InputParsingPropertyTests
{
    private static async Task<bool> ParsesOrRefusesAsync<T>(byte[] body)
    {
        var http = new DefaultHttpContext();
        http.Request.Body = new MemoryStream(body);
        http.Request.ContentType = "application/json";
        try
        {
            await HeraldJson.ReadAsync<T>(http.Request);
            return true;
        }
        catch (HeraldException e)
        {
            return e.Kind == ErrorKind.BadRequest && e.Messages.Count > 0 && e.Messages.All(m => m.Length > 0);
        }
    }

    [Property(MaxTest = 300)]
    public bool ArbitraryBytes_AreParsedOrRefusedAs400(byte[] body) =>
        ParsesOrRefusesAsync<CreateEndpointRequest>(body ?? []).GetAwaiter().GetResult();

    [Property(MaxTest = 300)]
    public bool JsonLookingText_IsParsedOrRefusedAs400(string[] keys, int[] values, bool nest)
    {
        var builder = new StringBuilder("{");
        var pairs = (keys ?? []).Zip(values ?? [], (k, v) => $"\"{k}\":{(nest ? "{\"x\":" + v + "}" : v.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        builder.AppendJoin(',', pairs).Append('}');
        var body = Encoding.UTF8.GetBytes(builder.ToString());
        return ParsesOrRefusesAsync<TransitionRequest>(body).GetAwaiter().GetResult()
            && ParsesOrRefusesAsync<CreatePaymentIntentRequest>(body).GetAwaiter().GetResult();
    }
}
