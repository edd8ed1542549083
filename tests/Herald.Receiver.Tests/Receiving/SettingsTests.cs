using Herald.Receiver.Tests.Infrastructure;

namespace Herald.Receiver.Tests.Receiving;

/// <summary>A setting under which the receiver cannot work fails when the route is mapped, naming it.</summary>
public sealed class SettingsTests
{
    [Theory]
    [InlineData(nameof(HeraldWebhookOptions.ClaimTimeout))]
    [InlineData(nameof(HeraldWebhookOptions.Tolerance))]
    [InlineData(nameof(HeraldWebhookOptions.MaxBodyBytes))]
    public async Task ASettingNotAboveZero_FailsAtStartup_NamingTheRouteAndTheSetting(string setting)
    {
        var options = new HeraldWebhookOptions();
        options.Secrets.Add(Signed.Secret);
        switch (setting)
        {
            // A claim that runs out at once would let a duplicate run the handler beside the first.
            case nameof(HeraldWebhookOptions.ClaimTimeout): options.ClaimTimeout = TimeSpan.Zero; break;
            case nameof(HeraldWebhookOptions.Tolerance): options.Tolerance = TimeSpan.FromSeconds(-1); break;
            default: options.MaxBodyBytes = 0; break;
        }

        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => ReceiverApp.StartAsync(options, (_, _) => Task.CompletedTask));

        Assert.Equal(setting, e.ParamName);
        Assert.Contains($"MapHeraldWebhooks(\"/webhooks\"): HeraldWebhookOptions.{setting} must be above zero", e.Message, StringComparison.Ordinal);
    }
}
