using Herald.Cli.Tests.Infrastructure;

namespace Herald.Cli.Tests.Commands;

/// <summary>What <c>herald</c> prints for <c>--help</c> and for an option out of its rules, with secrets in its environment.</summary>
public sealed class HelpAndOptionErrorTests
{
    private const string PostgresPassword = "pg-password-in-the-environment-7Qz4";

    /// <summary>Every environment variable Herald reads a secret from, each set to one.</summary>
    private static readonly Dictionary<string, string> Secrets = new()
    {
        ["HERALD_POSTGRES"] = $"Host=db.internal;Username=herald;Password={PostgresPassword}",
        ["HERALD_API_KEY"] = "hk_api_key_in_the_environment_9Xw2Lp0Rt6",
        ["HERALD_ADMIN_KEY"] = "hk_admin_key_in_the_environment_3Vb8Nm1Ks5",
        ["HERALD_HTTPS_CERT_PASSWORD"] = "https-cert-password-in-the-environment-4Hd7",
        ["HERALD_KEYS_CERT_PASSWORD"] = "keys-cert-password-in-the-environment-6Jf2",
    };

    /// <summary>Neither a value whole nor the connection string's password alone: a connection string printed rebuilt (its keys in another order, say) would still show it.</summary>
    private static void AssertNoSecretIn(string output)
    {
        foreach (var secret in Secrets.Values.Append(PostgresPassword))
        {
            Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("serve", "HERALD_POSTGRES")]
    [InlineData("migrate", "HERALD_POSTGRES")]
    [InlineData("backup", null)]
    [InlineData("listen", null)]
    [InlineData("trigger", "HERALD_API_KEY")]
    public async Task Help_WithSecretsInTheEnvironment_NeverShowsThem_ButNamesTheirVariables(string command, string? variable)
    {
        string[] arguments = command.Length == 0 ? ["--help"] : [command, "--help"];
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), arguments, Secrets);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        AssertNoSecretIn(stdout + stderr);
        if (variable is not null)
        {
            Assert.Contains($"default: {variable}.", stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ServeHelp_NamesEveryEnvironmentVariableServeReads()
    {
        var (code, stdout, _) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), "serve", "--help");
        Assert.Equal(0, code);
        string[] read = ["HERALD_URLS", "HERALD_METRICS_URLS", "HERALD_DATA", "HERALD_POSTGRES", "HERALD_HTTPS_CERT", "HERALD_HTTPS_CERT_PASSWORD",
            "HERALD_HTTPS_KEY", "HERALD_KEYS_CERT", "HERALD_KEYS_CERT_PASSWORD", "HERALD_PUBLIC_URL", "HERALD_LOG_FORMAT", "HERALD_ADMIN_KEY"];
        Assert.All(read, variable => Assert.Matches($@"\b{variable}\b", stdout));
    }

    [Theory]
    [InlineData("serve --concurrency 0", "--concurrency must be between 1 and 10,000 attempts in flight.")]
    [InlineData("serve --postgres", "Required argument missing for option: '--postgres'.")]
    [InlineData("migrate --no-such-option", "Unrecognized command or argument '--no-such-option'.")]
    [InlineData("backup", "Required argument missing for command: 'backup': its folder. The folder to write the copy to: a new one, or an empty one.")]
    [InlineData("trigger", "Required argument missing for command: 'trigger': its scenario. One of: transaction-completed, transaction-declined, transaction-refunded, transaction-canceled, transaction-expired, transaction-error, order-closed, order-refunded, order-expired, order-rejected, intent-finished, intent-canceled, intent-error")]
    [InlineData("no-such-command", "Unrecognized command or argument 'no-such-command'.")]
    [InlineData("listen --port 0", "--port must be between 1 and 65535.")]
    [InlineData("serve --log-format xml", "--log-format: Argument 'xml' not recognized. Must be one of: 'text', 'json'")]
    [InlineData("trigger transaction-completed --url notaurl", "--url 'notaurl' is not Herald's http:// or https:// address such as http://127.0.0.1:5080.")]
    public async Task OptionError_WithSecretsInTheEnvironment_IsItsOneLineOnStandardErrorAlone(string arguments, string message)
    {
        var (code, stdout, stderr) = await HeraldProcess.RunAsync(TimeSpan.FromSeconds(60), arguments.Split(' '), Secrets);
        Assert.NotEqual(0, code);
        AssertNoSecretIn(stdout + stderr);
        // No help after it (nor a blank line before that): the line is all there is.
        Assert.Equal("herald: " + message + Environment.NewLine, stderr);
        Assert.Empty(stdout);
    }
}
