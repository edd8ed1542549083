namespace Herald.Server.Portal;

/// <summary>
/// The pager of a newest-first list read by cursors one way at a time: the older items after an id
/// (<c>after</c>), or the newer ones just before one (<c>before</c>, which wins when both are given).
/// </summary>
/// <param name="Newest">The list's first page.</param>
/// <param name="Newer">The page just before this one, when newer items come first.</param>
/// <param name="Older">The page just after this one, when older items follow.</param>
public sealed record PortalPager(string Newest, string? Newer, string? Older)
{
    /// <summary>
    /// Whether the page, read from a cursor, has no items (past the oldest, say, or its items
    /// purged since): it has no item to page from, and leads back to <see cref="Newest"/>.
    /// </summary>
    public bool Beyond { get; init; }

    /// <summary>Whether the page shows a link to the list's first page: it is not that page.</summary>
    public bool ShowsNewest => Newer is not null || Beyond;

    /// <summary>
    /// What an empty page says: a page past the oldest (or the newest) that its filters reach has
    /// nothing older (or newer), which is not that nothing matches them.
    /// </summary>
    public static string Empty(string? after, string? before, string what) =>
        !string.IsNullOrEmpty(after) ? $"No older {what}: the oldest that match are on the page before (Newest leads back to the start)."
        : !string.IsNullOrEmpty(before) ? $"No newer {what}."
        : $"No {what} match.";

    /// <summary>
    /// Whether the cursors a page was asked with are ids of the list's kind (<paramref name="prefix"/>),
    /// or absent: one typed by hand or cut short would read an empty or a wrong page.
    /// </summary>
    public static bool WellFormed(string? after, string? before, string prefix) =>
        new[] { after, before }.All(c => string.IsNullOrEmpty(c) || Herald.Ids.HeraldId.IsWellFormed(prefix, c));

    /// <summary>The cursors to read the page with.</summary>
    public static (string? StartingAfter, string? EndingBefore) Cursors(string? after, string? before) =>
        string.IsNullOrEmpty(before) ? (string.IsNullOrEmpty(after) ? null : after, null) : (null, before);

    /// <summary>
    /// The pager of a page read with <see cref="Cursors"/>: its items' ids, newest first, and whether
    /// the read found more; <paramref name="link"/> makes the list's address from (after, before).
    /// </summary>
    public static PortalPager Of(string? after, string? before, IReadOnlyList<string> ids, bool hasMore, Func<string?, string?, string> link)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(link);
        var (startingAfter, endingBefore) = Cursors(after, before);
        // Read backwards, "more" means newer ones; read forwards, a cursor means we came from newer ones.
        var hasNewer = endingBefore is not null ? hasMore : startingAfter is not null;
        var hasOlder = endingBefore is not null ? ids.Count > 0 : hasMore;
        return new PortalPager(
            link(null, null),
            hasNewer && ids.Count > 0 ? link(null, ids[0]) : null,
            hasOlder && ids.Count > 0 ? link(ids[^1], null) : null)
        {
            Beyond = ids.Count == 0 && (startingAfter ?? endingBefore) is not null,
        };
    }

    /// <summary>
    /// Reads the page a list was asked for with <paramref name="read"/> (given the store's cursors;
    /// a cursor that is no id of the list's kind, <paramref name="prefix"/>, typed by hand or cut
    /// short, reads the first page) and makes its pager: the page's items, newest first.
    /// </summary>
    public static async Task<(IReadOnlyList<T> Items, PortalPager Pager)> ReadAsync<T>(string? after, string? before, string prefix,
        Func<string?, string?, Task<Herald.Storage.Model.Page<T>>> read, Func<T, string> idOf, Func<string?, string?, string> link)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(idOf);
        if (!WellFormed(after, before, prefix))
        {
            after = before = null;
        }
        var (startingAfter, endingBefore) = Cursors(after, before);
        var page = await read(startingAfter, endingBefore);
        return (page.Data, Of(after, before, page.Data.Select(idOf).ToList(), page.HasMore, link));
    }
}
