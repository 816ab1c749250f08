using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Options;

namespace RagFunctions.Core.Budgets;

/// <summary>A tenant blocked by a hard limit: whose budget (<paramref name="ExhaustedBudget"/>: the tenant itself or <c>_all</c>), in which window, until when.</summary>
public sealed record BudgetExhausted(string Tenant, string ExhaustedBudget, BudgetWindow Window, DateTimeOffset ResetsAt);

/// <summary>A query or submission refused because its tenant's (or the global) hard limit is reached; answered 429 at the HTTP edge.</summary>
public sealed class BudgetExhaustedException(BudgetExhausted exhausted)
    : Exception($"The {exhausted.Window.LabelValue()} budget '{exhausted.ExhaustedBudget}' of tenant '{exhausted.Tenant}' is exhausted until {exhausted.ResetsAt:O}.")
{
    public BudgetExhausted Exhausted { get; } = exhausted;
}

/// <summary>
/// The app's read of the ledger's spend: every row of the budgets table (<see cref="TenantBudgets.Table"/>), cached and
/// re-read once it is older than <see cref="GlobalBudgetOptions.RefreshSeconds"/> (concurrent callers share one read).
/// It never sums spend itself: the ledger is the single writer. A tenant is blocked while its own or the global
/// (<c>_all</c>) spend in the current day or month is at or above the hard limit; a row whose window has reset counts 0,
/// and a missing table or row is nothing spent. A failed read keeps the rows last read (none yet: nothing is blocked),
/// so a storage outage never stops queries; it is logged, and read again after the next interval.
/// </summary>
public sealed class BudgetGate
{
    private readonly TableClient _table;
    private readonly TenantBudgets _budgets;
    private readonly TimeProvider _time;
    private readonly TimeSpan _refresh;
    private readonly ILogger<BudgetGate> _logger;
    private readonly Lock _lock = new();
    private Snapshot _snapshot = Snapshot.Never;
    private Task<Snapshot>? _reading;

    public BudgetGate(IOptions<StorageOptions> storage, IOptions<BudgetOptions> options, TenantBudgets budgets, TimeProvider time, ILogger<BudgetGate> logger)
    {
        // Bounded: a slow or unreachable table costs a query at most about this long once per interval, never the SDK's 100 s.
        var client = new TableClientOptions { Retry = { MaxRetries = 1, NetworkTimeout = TimeSpan.FromSeconds(2), Mode = RetryMode.Fixed, Delay = TimeSpan.FromMilliseconds(200) } };
        _table = new TableClient(storage.Value.ConnectionString, budgets.Table, client);
        _budgets = budgets;
        _time = time;
        _refresh = TimeSpan.FromSeconds(options.Value.Budgets.RefreshSeconds);
        _logger = logger;
    }

    /// <summary>Null when <paramref name="tenant"/> may spend; else the exhausted budget with the latest reset (when a retry can succeed).</summary>
    public async ValueTask<BudgetExhausted?> CheckAsync(string tenant, CancellationToken cancellationToken)
    {
        if (!HasHardLimit(tenant) && !HasHardLimit(BudgetOptions.AllTenants))
        {
            return null;
        }

        var now = _time.GetUtcNow();
        var snapshot = await SnapshotAsync(now, cancellationToken);
        return Decide(tenant, snapshot.Rows, now);
    }

    private BudgetExhausted? Decide(string tenant, IReadOnlyDictionary<(BudgetWindow, string), BudgetRow> rows, DateTimeOffset now)
    {
        BudgetExhausted? latest = null;
        foreach (var budget in (ReadOnlySpan<string>)[tenant, BudgetOptions.AllTenants])
        {
            foreach (var window in BudgetWindows.All)
            {
                if (_budgets.Limit(budget, window, BudgetLimitKind.Hard) is { } hard
                    && rows.TryGetValue((window, budget), out var row)
                    && row.SpentAt(now) >= hard
                    && (latest is null || row.ResetsAt > latest.ResetsAt))
                {
                    latest = new BudgetExhausted(tenant, budget, window, row.ResetsAt);
                }
            }
        }

        return latest;
    }

    private bool HasHardLimit(string budget) =>
        _budgets.Limit(budget, BudgetWindow.Daily, BudgetLimitKind.Hard) is not null
        || _budgets.Limit(budget, BudgetWindow.Monthly, BudgetLimitKind.Hard) is not null;

    private Task<Snapshot> SnapshotAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        Task<Snapshot> reading;
        lock (_lock)
        {
            if (now - _snapshot.ReadAt < _refresh)
            {
                return Task.FromResult(_snapshot);
            }

            // One read for every caller that finds the rows stale; it is not cancelled with any one caller's request.
            reading = _reading ??= Task.Run(ReadAsync);
        }

        return reading.WaitAsync(cancellationToken);
    }

    private async Task<Snapshot> ReadAsync()
    {
        var attemptedAt = _time.GetUtcNow();
        Snapshot next;
        try
        {
            var rows = new Dictionary<(BudgetWindow, string), BudgetRow>();
            await foreach (var entity in _table.QueryAsync<TableEntity>(cancellationToken: CancellationToken.None))
            {
                if (BudgetRow.FromEntity(entity) is { } row)
                {
                    rows[(row.Window, row.Tenant)] = row;
                }
            }

            next = new Snapshot(rows, attemptedAt);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // The ledger has not written a row yet: nothing is spent.
            next = new Snapshot(Snapshot.Never.Rows, attemptedAt);
        }
        catch (Exception ex)
        {
            Log.BudgetReadFailed(_logger, _table.Name, _snapshot.Rows.Count, ex);
            next = _snapshot with { ReadAt = attemptedAt };
        }

        lock (_lock)
        {
            _snapshot = next;
            _reading = null;
        }

        return next;
    }

    /// <summary>The rows by (window, tenant), and when they were read (or a read was last attempted).</summary>
    private sealed record Snapshot(IReadOnlyDictionary<(BudgetWindow, string), BudgetRow> Rows, DateTimeOffset ReadAt)
    {
        public static readonly Snapshot Never = new(new Dictionary<(BudgetWindow, string), BudgetRow>(), DateTimeOffset.MinValue);
    }
}
