namespace Herald.Server.Api;

/// <summary>
/// A list read whole from the store (a merchant's endpoints or keys), answered a page at a time as
/// the lists read page by page from the database are: newest (highest id) first, <c>limit</c>
/// 1–100 (default 20), <c>starting_after</c> for the older page, <c>ending_before</c> for the newer one.
/// </summary>
internal static class ListPaging
{
    /// <summary>
    /// How many a list route reads, its query checked as every list's is: <c>limit</c> 1–100
    /// (default 20), one cursor at a time, and each an id of the list's kind (<paramref name="prefix"/>).
    /// </summary>
    public static int Take(int? limit, string? startingAfter, string? endingBefore, string prefix, string what)
    {
        var take = Validation.Limit(limit);
        Validation.OneCursor(startingAfter, endingBefore, prefix, what);
        return take;
    }

    /// <summary>A page read from the store, as the API answers it.</summary>
    public static ListResponse<TOut> Of<T, TOut>(Herald.Storage.Model.Page<T> page, Func<T, TOut> map)
    {
        ArgumentNullException.ThrowIfNull(page);
        return new(page.Data.Select(map).ToList(), page.HasMore);
    }

    public static ListResponse<TOut> Page<T, TOut>(IEnumerable<T> items, Func<T, string> idOf, Func<T, TOut> map,
        int? limit, string? startingAfter, string? endingBefore, string prefix, string what)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(map);
        var take = Take(limit, startingAfter, endingBefore, prefix, what);
        var newestFirst = items.OrderByDescending(idOf, StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(endingBefore))
        {
            // The newer ones just before the cursor: the last of those, still newest first.
            var newer = newestFirst.Where(i => string.CompareOrdinal(idOf(i), endingBefore) > 0).ToList();
            return new(newer.Skip(Math.Max(0, newer.Count - take)).Select(map).ToList(), newer.Count > take);
        }
        var older = string.IsNullOrEmpty(startingAfter) ? newestFirst : newestFirst.Where(i => string.CompareOrdinal(idOf(i), startingAfter) < 0);
        var page = older.Take(take + 1).ToList();
        return new(page.Take(take).Select(map).ToList(), page.Count > take);
    }
}
