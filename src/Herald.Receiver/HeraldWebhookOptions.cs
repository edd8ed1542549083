using Herald.Receiver.Idempotency;

namespace Herald.Receiver;

/// <summary>How <see cref="HeraldWebhookEndpointExtensions">MapHeraldWebhooks</see> checks and handles notifications.</summary>
public sealed class HeraldWebhookOptions
{
    /// <summary>
    /// The endpoint's signing secrets (<c>whsec_…</c>, spaces and line breaks around one ignored).
    /// During a rotation list both the new and the old one: a request is accepted when any of them
    /// signed it. Read on every request, so a secret may be added or removed while the app runs
    /// (from any thread); empty entries are skipped. With none, or only placeholders that are not
    /// <c>whsec_</c> secrets, every request is refused with 401 and the kit logs why.
    /// </summary>
    public IList<string> Secrets { get; } = new SecretList();

    /// <summary>The secrets as they are now, for one request.</summary>
    internal string[] CurrentSecrets() => ((SecretList)Secrets).Snapshot();

    /// <summary>A list whose changes and copies take one lock, so a request reads it whole while another thread changes it.</summary>
    private sealed class SecretList : System.Collections.ObjectModel.Collection<string>
    {
        private readonly Lock _gate = new();

        public string[] Snapshot()
        {
            lock (_gate)
            {
                return Items.Where(s => !string.IsNullOrWhiteSpace(s)).ToArray();
            }
        }

        protected override void InsertItem(int index, string item)
        {
            lock (_gate)
            {
                base.InsertItem(index, item);
            }
        }

        protected override void SetItem(int index, string item)
        {
            lock (_gate)
            {
                base.SetItem(index, item);
            }
        }

        protected override void RemoveItem(int index)
        {
            lock (_gate)
            {
                base.RemoveItem(index);
            }
        }

        protected override void ClearItems()
        {
            lock (_gate)
            {
                base.ClearItems();
            }
        }
    }

    /// <summary>How far <c>webhook-timestamp</c> may be from now, either way. Default 5 minutes.</summary>
    public TimeSpan Tolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The largest body accepted. Default 1 MiB.</summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Where handled <c>webhook-id</c>s are remembered. Default: an in-memory store of the last
    /// 100,000 ids; use <see cref="SqliteIdempotencyStore"/> or <see cref="PostgresIdempotencyStore"/>
    /// when the app runs on several machines or must remember across restarts. Receivers sharing one
    /// store each need their own <see cref="IdempotencyScope"/>.
    /// </summary>
    public IIdempotencyStore? IdempotencyStore { get; set; }

    /// <summary>
    /// Keeps this receiver's handled ids apart from other receivers' in the same store. Herald sends
    /// an event under one <c>webhook-id</c> to every endpoint that receives it, so two receivers that
    /// share a store (two routes of one app, or two apps on one database) must each have their own
    /// scope, e.g. <c>"orders"</c> and <c>"refunds"</c>, or each would skip the other's notifications
    /// as already handled; ids are then stored as <c>scope:webhook-id</c>. Null, the default, stores
    /// the <c>webhook-id</c> as it is, as the kit did before scopes, so a receiver that keeps it still
    /// recognises the ids it handled before. Read when the route is mapped; mapping two receivers of
    /// one app on one store instance with the same scope (or none) fails then.
    /// </summary>
    public string? IdempotencyScope { get; set; }

    /// <summary>
    /// How long a claimed id stays reserved while its handler runs; after that a retry may run
    /// the handler again (the first run is assumed dead). Default 5 minutes.
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// When set, thin payment-order events carry the order fetched from Herald
    /// (<c>GET /v1/payment_orders/{id}</c>), as seed 001 tells receivers to do. When not set, the
    /// <see cref="HeraldClient"/> of the app's services is used, if one is registered
    /// (<see cref="HeraldClientServiceCollectionExtensions.AddHeraldClient(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{HeraldClientOptions}?)">AddHeraldClient</see>).
    /// </summary>
    public HeraldClient? Client { get; set; }

    /// <summary>The clock; tests pass a fixed one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Refuses, when the route at <paramref name="pattern"/> is mapped, a setting under which the
    /// receiver could not work: read on every request, it would otherwise show only as refusals or,
    /// for <see cref="ClaimTimeout"/>, as a handler run twice at once.
    /// </summary>
    internal void Validate(string pattern)
    {
        ArgumentNullException.ThrowIfNull(TimeProvider);
        Refuse(Tolerance <= TimeSpan.Zero, nameof(Tolerance), Tolerance, "every notification would be refused as too old or too new");
        Refuse(ClaimTimeout <= TimeSpan.Zero, nameof(ClaimTimeout), ClaimTimeout,
            "a claim would run out at once, and a duplicate arriving while the handler runs would run it again beside it");
        Refuse(MaxBodyBytes <= 0, nameof(MaxBodyBytes), MaxBodyBytes, "every notification would be refused with 413");

        void Refuse(bool wrong, string name, object value, string why)
        {
            if (wrong)
            {
                throw new ArgumentOutOfRangeException(name, value, $"MapHeraldWebhooks(\"{pattern}\"): HeraldWebhookOptions.{name} must be above zero: {why}");
            }
        }
    }
}
