using Herald.Receiver.Events;
using Herald.Receiver.Idempotency;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Receiver;

/// <summary>Maps an endpoint that receives Herald's notifications.</summary>
public static class HeraldWebhookEndpointExtensions
{
    /// <summary>
    /// Maps <c>POST <paramref name="pattern"/></c>: reads the raw body, verifies <c>webhook-signature</c>
    /// against the secrets and the timestamp against the tolerance (401 otherwise, without calling the
    /// handler; the reason is logged at Information, so a misconfigured secret or a clock off shows in
    /// the app's log), claims the <c>webhook-id</c> so the handler runs once per notification, runs
    /// <paramref name="handler"/> and answers 200; a handler that throws gives the id back and answers
    /// 500, so Herald's retry runs it again.
    /// </summary>
    /// <param name="endpoints">The app's routes.</param>
    /// <param name="pattern">The route, e.g. <c>/webhooks</c>.</param>
    /// <param name="options">Secrets, tolerance, idempotency store and scope, client.</param>
    /// <param name="handler">
    /// Called once per notification with its typed event and the request's cancellation token, which
    /// fires when the request is aborted (Herald stopped waiting after the endpoint's timeout and will
    /// retry, or the app is stopping).
    /// </param>
    /// <exception cref="InvalidOperationException">
    /// Another receiver of the app uses the same idempotency store with the same
    /// <see cref="HeraldWebhookOptions.IdempotencyScope"/> (or none).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <see cref="HeraldWebhookOptions.Tolerance"/>, <see cref="HeraldWebhookOptions.ClaimTimeout"/> or
    /// <see cref="HeraldWebhookOptions.MaxBodyBytes"/> is not above zero.
    /// </exception>
    public static RouteHandlerBuilder MapHeraldWebhooks(this IEndpointRouteBuilder endpoints, string pattern, HeraldWebhookOptions options,
        Func<HeraldEvent, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return endpoints.MapHeraldWebhooks(pattern, options, (evt, _, cancellationToken) => handler(evt, cancellationToken));
    }

    /// <summary>
    /// As <see cref="MapHeraldWebhooks(IEndpointRouteBuilder, string, HeraldWebhookOptions, Func{HeraldEvent, CancellationToken, Task})"/>,
    /// with a handler given the request's services: scoped ones (a <c>DbContext</c>, a unit of work)
    /// live for the one notification, as they would in a controller, so the handler needs no scope
    /// of its own.
    /// </summary>
    /// <param name="endpoints">The app's routes.</param>
    /// <param name="pattern">The route, e.g. <c>/webhooks</c>.</param>
    /// <param name="options">Secrets, tolerance, idempotency store and scope, client.</param>
    /// <param name="handler">
    /// Called once per notification with its typed event, the request's services
    /// (<see cref="HttpContext.RequestServices"/>) and the request's cancellation token.
    /// </param>
    /// <exception cref="InvalidOperationException">
    /// Another receiver of the app uses the same idempotency store with the same
    /// <see cref="HeraldWebhookOptions.IdempotencyScope"/> (or none).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <see cref="HeraldWebhookOptions.Tolerance"/>, <see cref="HeraldWebhookOptions.ClaimTimeout"/> or
    /// <see cref="HeraldWebhookOptions.MaxBodyBytes"/> is not above zero.
    /// </exception>
    public static RouteHandlerBuilder MapHeraldWebhooks(this IEndpointRouteBuilder endpoints, string pattern, HeraldWebhookOptions options,
        Func<HeraldEvent, IServiceProvider, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        options.Validate(pattern);
        var store = options.IdempotencyStore ?? new InMemoryIdempotencyStore();
        var scope = options.IdempotencyScope;
        IdempotencyScopes.Register(endpoints.ServiceProvider, store, scope, pattern);
        var logger = endpoints.ServiceProvider.GetService<ILoggerFactory>()?.CreateLogger<HeraldWebhookReceiver>() ?? (ILogger)NullLogger.Instance;
        var receiver = new HeraldWebhookReceiver(options, store, scope, logger, handler);
        return endpoints.MapPost(pattern, (Delegate)((HttpContext http) => receiver.ReceiveAsync(http)));
    }
}
