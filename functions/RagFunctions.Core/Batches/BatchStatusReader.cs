using System.Globalization;
using RagFunctions.Core.Input;

namespace RagFunctions.Core.Batches;

/// <summary>Reads a batch's status: one snapshot of its counts and one page of its results.</summary>
public sealed class BatchStatusReader(BatchStore store)
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 200;

    /// <summary>Status, counts and one page of results; parameters are checked here, all at once, and nowhere else.</summary>
    public async Task<BatchStatusView> ReadAsync(string batchId, string? pageSizeText, string? continuationToken, CancellationToken cancellationToken)
    {
        if (!BatchIds.IsWellFormed(batchId))
        {
            throw new BatchNotFoundException(batchId);
        }

        var errors = new InputErrors();
        var pageSize = DefaultPageSize;
        if (pageSizeText is not null && (!int.TryParse(pageSizeText, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
        {
            errors.Add("pageSize", $"'pageSize' must be a whole number between 1 and {MaxPageSize}, not {UserText.Quote(pageSizeText)}.");
        }

        var firstIndex = continuationToken is null ? 0 : ResultPageToken.Parse(continuationToken, batchId, errors);
        errors.ThrowIfAny();

        await store.EnsureCreatedAsync(cancellationToken);
        var batch = await store.FindBatchAsync(batchId, cancellationToken) ?? throw new BatchNotFoundException(batchId);

        // One snapshot: the counts and the page both come from the rows this one query sees. Result rows are insert-only,
        // so the page's rows, read next, are exactly as they were; a row that lands in between is left to the next poll.
        // So the counts agree with the page, never decrease between polls, and status only moves queued → running → done.
        int succeeded = 0, failed = 0;
        decimal cost = 0;
        var seen = new SortedSet<int>();
        await foreach (var row in store.ScanResultsAsync(batchId, cancellationToken))
        {
            seen.Add(row.Index);
            if (row.Status == ResultStatus.Succeeded)
            {
                succeeded++;
            }
            else
            {
                failed++;
            }

            cost += row.CostUsd;
        }

        var page = await PageAsync(batchId, seen, firstIndex!.Value, pageSize, cancellationToken);
        var count = batch.Count;
        var completed = succeeded + failed;
        var state = completed == 0 ? BatchStates.Queued : completed >= count ? BatchStates.Done : BatchStates.Running;
        return new BatchStatusView(batchId, state, count, completed, succeeded, failed, cost, batch.SubmittedAt, page.Results, page.Next);
    }

    /// <summary>
    /// The rows of <paramref name="seen"/> from index <paramref name="firstIndex"/> on, up to <paramref name="pageSize"/>,
    /// and the token of the seen rows after them.
    /// </summary>
    private async Task<(List<BatchResultView> Results, string? Next)> PageAsync(
        string batchId, SortedSet<int> seen, int firstIndex, int pageSize, CancellationToken cancellationToken)
    {
        var indices = seen.GetViewBetween(firstIndex, int.MaxValue).Take(pageSize + 1).ToList();
        var more = indices.Count > pageSize;
        var onPage = indices.Take(pageSize).ToHashSet();
        var results = new List<BatchResultView>(onPage.Count);
        if (onPage.Count > 0)
        {
            await foreach (var row in store.ReadResultsAsync(batchId, indices[0], indices[onPage.Count - 1], cancellationToken))
            {
                if (onPage.Contains(row.Index))
                {
                    results.Add(ToView(row));
                }
            }
        }

        return (results, more ? ResultPageToken.Create(batchId, indices[pageSize - 1] + 1) : null);
    }

    private static BatchResultView ToView(BatchResult r) => new(
        r.Index, r.Status, r.Question, r.Answer, r.Error, r.Model,
        r.Usage.Input, r.Usage.Output, r.Usage.CacheRead, r.Usage.CacheWrite, r.CostUsd, r.LatencyMs);
}
