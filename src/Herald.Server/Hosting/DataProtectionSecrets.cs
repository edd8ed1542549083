using Herald.Storage.Abstractions;
using Microsoft.AspNetCore.DataProtection;

namespace Herald.Server.Hosting;

/// <summary>
/// Endpoint secrets encrypted with ASP.NET Core Data Protection. Stored values carry a prefix so
/// that values written before encryption was on are still read.
/// </summary>
internal sealed class DataProtectionSecrets(IDataProtectionProvider provider) : ISecretProtector
{
    private const string Prefix = "dp1:";
    private readonly IDataProtector _protector = provider.CreateProtector("Herald.EndpointSecrets.v1");

    public string Protect(string secret) => Prefix + _protector.Protect(secret);

    public string Unprotect(string stored) =>
        stored.StartsWith(Prefix, StringComparison.Ordinal) ? _protector.Unprotect(stored[Prefix.Length..]) : stored;
}
