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
}
