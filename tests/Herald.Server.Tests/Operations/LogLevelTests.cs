using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Operations;

/// <summary>
/// Levels are set as .NET's are (<c>Logging__LogLevel__…</c>): the levels Herald picks for ASP.NET
/// Core's and the host's own categories are defaults the operator's configuration overrides.
/// </summary>
public sealed class LogLevelTests
{
    [Fact]
    public async Task TheOperatorsLevels_OverrideHeraldsDefaults_ForTheCategoriesItQuiets()
    {
        await using var herald = await HeraldHost.StartAsync(workers: false, configure: b =>
        {
            b.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug";
            b.Configuration["Logging:LogLevel:Microsoft.Hosting"] = "Warning";
        });
        var loggers = herald.Services.GetRequiredService<ILoggerFactory>();

        Assert.True(loggers.CreateLogger("Microsoft.AspNetCore.Routing.EndpointMiddleware").IsEnabled(LogLevel.Debug));
        Assert.False(loggers.CreateLogger("Microsoft.Hosting.Lifetime").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public async Task WithoutTheOperatorsLevels_AspNetCoreSaysOnlyWarnings_AndTheHostWhereItListens()
    {
        await using var herald = await HeraldHost.StartAsync(workers: false);
        var loggers = herald.Services.GetRequiredService<ILoggerFactory>();

        Assert.False(loggers.CreateLogger("Microsoft.AspNetCore.Routing.EndpointMiddleware").IsEnabled(LogLevel.Information));
        Assert.True(loggers.CreateLogger("Microsoft.AspNetCore.Routing.EndpointMiddleware").IsEnabled(LogLevel.Warning));
        Assert.False(loggers.CreateLogger("Microsoft.AspNetCore.DataProtection.KeyManagement").IsEnabled(LogLevel.Warning));
    }
}
