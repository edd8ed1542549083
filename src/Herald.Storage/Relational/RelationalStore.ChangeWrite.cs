using System.Data;
using System.Data.Common;
using Dapper;
using Herald.Entities;
using Herald.Events;
using Herald.Storage.Abstractions;
using Herald.Storage.Model;

namespace Herald.Storage.Relational;

// A batch of changes as it is written: its rows, made before the write begins, and the answer to each change.
public abstract partial class RelationalStore
{
    /// <summary>
    /// A batch of changes, its JSON texts and rows made before the write begins (on SQLite a write
    /// holds the one writer's turn); the events and notifications of a change that lost its race
    /// are left out when it is written.
    /// </summary>
    private sealed class ChangeWrite
    {
        private readonly IReadOnlyList<EntityChange> _changes;
        private readonly string[] _documents;
        private readonly RowSet _creates = NewEntityRows();
        private readonly List<int> _createdBy = [];
        private readonly RowSet _updates = NewUpdateRows();
        private readonly List<int> _updatedBy = [];
        private readonly RowSet _events = NewEventRows();
        private readonly RowSet _notifications = NewNotificationRows();
        private readonly List<int> _notifiedBy = [];
        private readonly List<bool> _leftToClaim = [];

        public ChangeWrite(IReadOnlyList<EntityChange> changes, NotificationLease? lease)
        {
            _changes = changes;
            _documents = new string[changes.Count];
            var created = new HashSet<(string Kind, string Id)>();
            // How many of the batch's changes touch each entity: an update goes in with the others
            // only when it is the one change of its entity, so that no change needs to see another's.
            var touches = new Dictionary<(string Kind, string Id), int>();
            foreach (var change in changes)
            {
                var key = (change.Entity.Kind.ApiName(), change.Entity.Id);
                touches[key] = touches.GetValueOrDefault(key) + 1;
            }
            _inBatchStatement = new bool[changes.Count];
            var creates = new List<((string Kind, string Id) Key, int Change)>();
            var updates = new List<((string Kind, string Id) Key, int Change)>();
            for (var i = 0; i < changes.Count; i++)
            {
                var change = changes[i];
                var key = (change.Entity.Kind.ApiName(), change.Entity.Id);
                _documents[i] = change.DocumentJson();
                var snapshot = change.SnapshotJson();
                if (change.Event.Version == change.Entity.Version)
                {
                    // The entity's row keeps no copy of its event's snapshot (see DocumentColumn).
                    _documents[i] = KeptOnce(_documents[i], snapshot);
                }
                // New entities without an idempotency key go in together, skipping the ids already
                // taken; two creations of one id in a batch: the first one wins, as it would one at a time.
                if (IsPlainCreate(change))
                {
                    _inBatchStatement[i] = true;
                    if (created.Add(key))
                    {
                        creates.Add((key, i));
                    }
                }
                else if (IsPlainUpdate(change) && touches[key] == 1)
                {
                    _inBatchStatement[i] = true;
                    updates.Add((key, i));
                }
                var evt = change.Event;
                AddEvent(_events, evt.Id, evt.MerchantId, evt.EntityKind.ApiName(), evt.EntityId, evt.Type, evt.FromState, evt.ToState, evt.Version, evt.OccurredAt, snapshot);
                var before = _notifications.Count;
                AddNotifications(_notifications, evt.Id, evt.MerchantId, evt.EntityKind.ApiName(), evt.EntityId, evt.Type, evt.Version, evt.OccurredAt, snapshot, change.TraceParent, change.Notifications, lease, _leftToClaim);
                _notifiedBy.AddRange(Enumerable.Repeat(i, _notifications.Count - before));
            }
            // Entities in one order whatever the batch's: two transactions writing the same ones
            // (on PostgreSQL, several at once) then take their row locks in the same order.
            foreach (var (_, i) in creates.OrderBy(c => c.Key, EntityKeyOrder))
            {
                AddEntity(_creates, changes[i].Entity, _documents[i]);
                _createdBy.Add(i);
            }
            foreach (var (key, i) in updates.OrderBy(c => c.Key, EntityKeyOrder))
            {
                var e = changes[i].Entity;
                _updates.Add(key.Kind, e.Id, e.MerchantId, e.State, (long)e.Version, _documents[i], Time.Ms(e.UpdatedAt), changes[i].ExpectedVersion);
                _updatedBy.Add(i);
            }
        }

        private static readonly Comparer<(string Kind, string Id)> EntityKeyOrder = Comparer<(string Kind, string Id)>.Create(
            (a, b) => string.CompareOrdinal(a.Kind, b.Kind) is var byKind and not 0 ? byKind : string.CompareOrdinal(a.Id, b.Id));

        // Which changes the batch's statement writes (their entity too), not one statement each: the
        // plain creates (a repeated id among them then loses) and the updates written together.
        private readonly bool[] _inBatchStatement;

        private static bool IsPlainCreate(EntityChange change) => change.ExpectedVersion == 0 && change.IdempotencyKey is null;

        private static bool IsPlainUpdate(EntityChange change) => change.ExpectedVersion > 0 && change.IdempotencyKey is null;

        /// <summary>Whether the batch's statement writes every change (no change is written one statement at a time).</summary>
        public bool AllInOneStatement => Array.TrueForAll(_inBatchStatement, b => b);

        /// <summary>What the batch's statement writes when it writes every change.</summary>
        public ChangeRows Rows => new(_creates, _createdBy, _updates, _updatedBy, [], _events, _notifications, _notifiedBy, _leftToClaim);

        /// <summary>Each change's result when those the batch's statement took are <paramref name="taken"/> (the others lost their race).</summary>
        public CommitResult[] Answer(IEnumerable<int> taken)
        {
            var results = new CommitResult[_changes.Count];
            Array.Fill(results, CommitResult.VersionConflict);
            return Taken(results, taken);
        }

        private static CommitResult[] Taken(CommitResult[] results, IEnumerable<int> taken)
        {
            foreach (var i in taken)
            {
                results[i] = CommitResult.Committed;
            }
            return results;
        }

        public async Task<CommitResult[]> WriteAsync(RelationalStore store, WriteScope scope, CancellationToken cancellationToken)
        {
            var results = new CommitResult[_changes.Count];
            var written = new List<int>();
            for (var i = 0; i < _changes.Count; i++)
            {
                // Those written by the batch's statement are answered by it (a conflict unless it takes them).
                results[i] = _inBatchStatement[i] ? CommitResult.VersionConflict : await WriteEntityAsync(scope, _changes[i], _documents[i], cancellationToken);
                if (results[i] == CommitResult.Committed)
                {
                    written.Add(i);
                }
            }
            var rows = new ChangeRows(_creates, _createdBy, _updates, _updatedBy, written, _events, _notifications, _notifiedBy, _leftToClaim);
            return Taken(results, await store.InsertChangesAsync(scope, rows, cancellationToken));
        }
    }

    /// <summary>
    /// What a batch of changes writes besides the entities written one change at a time: the new
    /// entities of its plain creates (those whose id is free go in), the plain updates (each the
    /// batch's one change of its entity, taking only while the entity is still at the version it
    /// expects), then the event (row <c>i</c> of <see cref="Events"/> for change <c>i</c>) and the
    /// notifications of every change that took: one of those creates or updates, or one of
    /// <see cref="Written"/> already.
    /// </summary>
    protected sealed class ChangeRows(RowSet creates, IReadOnlyList<int> createdBy, RowSet updates, IReadOnlyList<int> updatedBy,
        IReadOnlyList<int> written, RowSet events, RowSet notifications, IReadOnlyList<int> notifiedBy, IReadOnlyList<bool> leftToClaim)
    {
        /// <summary>The plain creates' entities (rows of <see cref="NewEntityRows"/>).</summary>
        public RowSet Creates { get; } = creates;

        /// <summary>For each row of <see cref="Creates"/>, the change it belongs to.</summary>
        public IReadOnlyList<int> CreatedBy { get; } = createdBy;

        /// <summary>The plain updates (rows of <see cref="NewUpdateRows"/>).</summary>
        public RowSet Updates { get; } = updates;

        /// <summary>For each row of <see cref="Updates"/>, the change it belongs to.</summary>
        public IReadOnlyList<int> UpdatedBy { get; } = updatedBy;

        /// <summary>The changes whose entity was written already, in this transaction.</summary>
        public IReadOnlyList<int> Written { get; } = written;

        /// <summary>One event per change, in the changes' order.</summary>
        public RowSet Events { get; } = events;

        /// <summary>The changes' notifications (rows of <see cref="NewNotificationRows"/>).</summary>
        public RowSet Notifications { get; } = notifications;

        /// <summary>For each row of <see cref="Notifications"/>, the change it belongs to.</summary>
        public IReadOnlyList<int> NotifiedBy { get; } = notifiedBy;

        /// <summary>For each row of <see cref="Notifications"/>, whether it is left for a claim (see <see cref="NewNotification.LeftToClaim"/>).</summary>
        public IReadOnlyList<bool> LeftToClaim { get; } = leftToClaim;

        /// <summary>Whether any notification is left for a claim: the nodes are to be woken to claim it.</summary>
        public bool Claimable => LeftToClaim.Contains(true);
    }
}
