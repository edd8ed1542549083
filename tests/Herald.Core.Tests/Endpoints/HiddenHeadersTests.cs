using Herald.Endpoints;

namespace Herald.Core.Tests.Endpoints;

public sealed class HiddenHeadersTests
{
    [Theory]
    [InlineData("Authorization")]
    [InlineData("Proxy-Authorization")]
    [InlineData("X-Api-Key")]
    [InlineData("x-api-key")]
    [InlineData("X-ApiKey")]
    [InlineData("X-APIKEY")]
    [InlineData("x-accesstoken")]
    [InlineData("X-Gateway-Key")]
    [InlineData("X-Auth-Token")]
    [InlineData("X-ClientSecret")]
    [InlineData("X_Access_Token")]
    [InlineData("X-Jwt")]
    [InlineData("Cookie")]
    [InlineData("X-Api-Pass")]
    [InlineData("X-Authentication")]
    [InlineData("X-Authorisation")]
    [InlineData("X-API-Keys")]
    [InlineData("X-Tokens")]
    [InlineData("X-Token2")]
    [InlineData("X-Creds")]
    [InlineData("X-Passcode")]
    [InlineData("X-Apitoken")]
    [InlineData("X-Gateway-Apikey1")]
    [InlineData("X-Authkey")]
    [InlineData("X-Passkey")]
    [InlineData("X-Masterkey")]
    [InlineData("X-Apipassword")]
    [InlineData("X-USERPASSWORD")]
    [InlineData("X-Secrettoken")]
    [InlineData("X-Apiauth")]
    [InlineData("X-Authorizationkeys")]
    public void ANameWhoseWordsSayCredential_IsHidden(string name) => Assert.True(HiddenHeaders.IsCredential(name));

    [Theory]
    [InlineData("X-Shop")]
    [InlineData("X-Keyboard-Layout")]
    [InlineData("X-Author")]
    [InlineData("X-Monkey-Business")]
    [InlineData("Accept-Language")]
    [InlineData("X-Tenant")]
    [InlineData("X-Keyboard")]
    [InlineData("X-Passport")]
    [InlineData("X-Client-Id")]
    [InlineData("X-Userid")]
    [InlineData("X-Apiversion")]
    public void AnOrdinaryName_IsShown(string name) => Assert.False(HiddenHeaders.IsCredential(name));

    [Theory]
    [InlineData("Bearer%20a%2Fb%2Fc%20456789")]  // every reserved character escaped (JavaScript's encodeURIComponent)
    [InlineData("Bearer%20a/b/c%20456789")]      // "/" kept (Python's quote, JavaScript's encodeURI)
    [InlineData("Bearer+a%2Fb%2Fc+456789")]      // a form's encoding (Python's quote_plus)
    [InlineData("bearer+a%2fb%2fc+456789")]      // in lower case
    [InlineData("Bearer a\\/b\\/c 456789")]  // in JSON, "/" escaped as PHP writes it
    public void Redact_HidesAValueAsAReceiverEchoesItEscaped(string echoed)
    {
        var headers = new Dictionary<string, string> { ["X-Gw-Token"] = "Bearer a/b/c 456789" };
        var answer = $"refused: {echoed}.";
        Assert.Equal("refused: ********.", HiddenHeaders.Redact(answer, headers));
    }

    [Fact]
    public void Hide_HidesCredentialsOnly_AndRedact_HidesTheirValuesAndTokensInAnAnswer()
    {
        var headers = new Dictionary<string, string> { ["Authorization"] = "Bearer abc-123", ["X-Shop"] = "north" };

        var shown = HiddenHeaders.Hide(headers)!;

        Assert.Equal(HiddenHeaders.Shown, shown["Authorization"]);
        Assert.Equal("north", shown["X-Shop"]);
        Assert.Equal("bad ******** and ******** for north", HiddenHeaders.Redact("bad Bearer abc-123 and abc-123 for north", headers));
        // Overlapping values: the longer is hidden whole, not left with the shorter's tail.
        var overlapping = new Dictionary<string, string> { ["X-Api-Key"] = "live-2024", ["Authorization"] = "Bearer live-2024-Zq8HfK3mN7pR" };
        Assert.Equal("a: ********, b: ********", HiddenHeaders.Redact("a: Bearer live-2024-Zq8HfK3mN7pR, b: live-2024", overlapping));
        Assert.Equal("abc-123", HiddenHeaders.Keep("authorization", HiddenHeaders.Shown, new Dictionary<string, string> { ["Authorization"] = "abc-123" }));
        Assert.Null(HiddenHeaders.Keep("Authorization", HiddenHeaders.Shown, null));
        Assert.Equal(HiddenHeaders.Shown, HiddenHeaders.Keep("X-Shop", HiddenHeaders.Shown, null));
    }
}
