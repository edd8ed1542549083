namespace Herald.Storage.Abstractions;

/// <summary>
/// Encrypts endpoint signing secrets before they are stored and decrypts them when read, so a copy
/// of the database alone does not let anyone sign as Herald.
/// </summary>
public interface ISecretProtector
{
    string Protect(string secret);

    string Unprotect(string stored);
}

/// <summary>Stores secrets as they are; for tools and tests that hold no keys.</summary>
public sealed class PlainSecrets : ISecretProtector
{
    public static PlainSecrets Instance { get; } = new();

    public string Protect(string secret) => secret;

    public string Unprotect(string stored) => stored;
}
