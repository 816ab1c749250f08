using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RagFunctions.Ledger;

/// <summary>
/// One fold cycle every interval: read the head (lease), load the state if it moved, read all Pushgateway groups,
/// fold, commit conditionally (ETag), publish exactly the committed state for /metrics, then delete the groups retired
/// by that commit and any group forged under the ledger's job. Every step is idempotent, so a crash anywhere is repaired
/// by the next cycle. Only the lease holder serves, and only from committed state while its lease certainly holds:
/// the standby and a holder whose cycle failed serve nothing, so the totals Prometheus scrapes never go down.
/// </summary>
public sealed class LedgerWorker(
    LedgerStateStore store,
    PushgatewayClient pushgateway,
    BudgetTable budgetTable,
    ExposedBudgets budgets,
    IOptions<LedgerOptions> options,
    TimeProvider time,
    IEnumerable<ILedgerCycleObserver> observers,
    ILogger<LedgerWorker> logger)
    : BackgroundService
{
    private readonly LedgerOptions _options = options.Value;
    private readonly string _replica = options.Value.ReplicaId!;
    private readonly ILedgerCycleObserver[] _observers = [.. observers];

    // A cycle and a scrape never interleave: between cycles the in-memory state is the committed one (plus hold stamps).
    private readonly SemaphoreSlim _gate = new(1, 1);
    private LedgerHead? _head;
    private LedgerState? _state;
    private bool _dirty;
    private bool _standbyLogged;
    private long _servableUntil;
    private LedgerSelfMetrics? _self;

    // Set by every fold that changed the state, cleared by a successful write: a cycle that fails in between leaves it set.
    private bool _budgetRowsBehind = true;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.Starting(logger, _replica, _options.PushgatewayUrl, _options.InstanceJob, _options.LedgerJob, _options.StateTable, _options.StatePartition);
        await store.EnsureTableAsync(stoppingToken);
        await budgetTable.EnsureTableAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.FoldIntervalSeconds), time);
        do
        {
            await _gate.WaitAsync(stoppingToken);
            try
            {
                await RunCycleAsync(stoppingToken);
            }
            catch (LedgerConflictException ex)
            {
                Log.Conflict(logger, ex.Message);
                _state = null;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The in-memory state may be ahead of the committed one: start from the store again.
                Log.CycleFailed(logger, ex);
                _state = null;
            }
            finally
            {
                _gate.Release();
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// The /metrics body: the committed totals with the first-sample hold, or null when this replica must serve nothing
    /// (standby, no commit yet, last cycle failed, or its lease may have lapsed). Serving a unit's zero for the first
    /// time starts its hold; the stamp is committed by the next cycle.
    /// </summary>
    public async Task<string?> RenderForScrapeAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_state is not { } state || _self is not { } self || Stopwatch.GetTimestamp() >= Volatile.Read(ref _servableUntil))
            {
                return null;
            }

            var now = Seconds(time.GetUtcNow());
            var (text, firstServed) = LedgerExposition.Render(state, now, _options.FirstSampleHoldSeconds, self);
            foreach (var unit in firstServed)
            {
                unit.FirstServedAt = now;
                _dirty = true;
            }

            return text;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>One cycle; public so the steps read in order. The caller holds the gate.</summary>
    public async Task RunCycleAsync(CancellationToken cancellationToken)
    {
        // Nothing is served while the state may move ahead of what is committed.
        Volatile.Write(ref _servableUntil, 0);
        var head = await store.ReadHeadAsync(cancellationToken);
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (head is not null && head.Holder != _replica && head.LeaseUntilMs > nowMs)
        {
            if (!_standbyLogged)
            {
                Log.Standby(logger, _replica, head.Holder, head.LeaseUntilMs - nowMs);
                _standbyLogged = true;
            }

            _state = null;
            return;
        }

        _standbyLogged = false;
        if (_state is null || _head is null || head is null || head.Generation != _head.Generation || head.WriteId != _head.WriteId)
        {
            _state = await store.ReadStateAsync(head, cancellationToken);
            _dirty = false;
        }

        var state = _state;
        var foldStarted = Stopwatch.GetTimestamp();
        var json = await pushgateway.GetGroupsJsonAsync(cancellationToken);
        var gateway = PushgatewayGroups.Parse(json, _options.InstanceJob, _options.LedgerJob);
        var nowUtc = time.GetUtcNow();
        var now = Seconds(nowUtc);
        var outcome = LedgerFold.Fold(state, gateway.Instances, now, _options.StaleAfterSeconds, _options.TombstoneRetentionSeconds, _options.PlausibleMaxDelta, budgets.Tenants);
        _budgetRowsBehind |= outcome.Changed;
        var foreignChanged = LedgerFold.CountForeign(state, gateway.Foreign);
        var changed = outcome.Changed || foreignChanged || _dirty;
        Completed(LedgerCycleStep.Folded, outcome.Changed);

        if (changed)
        {
            state.Counters.Commits++;
        }

        var committedAt = Stopwatch.GetTimestamp();
        var leaseUntil = time.GetUtcNow().ToUnixTimeMilliseconds() + (long)(_options.LeaseSeconds * 1000);
        StagedState? staged = null;
        if (changed)
        {
            staged = await store.StageAsync(head, state, cancellationToken);
            Completed(LedgerCycleStep.Staged, outcome.Changed);
        }

        _head = await store.CommitAsync(head, staged, _replica, leaseUntil, cancellationToken);
        _dirty = false;
        if (changed)
        {
            Log.Committed(logger, _head.Generation, outcome.GroupsFolded, state.Units.Count, state.Instances.Count, state.Tombstones.Count, outcome.Retire.Count);
        }

        Completed(LedgerCycleStep.Committed, outcome.Changed);

        // Fencing: serve only while the lease just renewed certainly still holds (a scrape may take the HTTP timeout to
        // be answered), so a replica that took over never serves beside an older state.
        _self = new LedgerSelfMetrics(now, gateway.GroupCount, _options.PlausibleMaxDelta.Keys, budgets, Stopwatch.GetElapsedTime(foldStarted).TotalSeconds);
        var servable = TimeSpan.FromSeconds(_options.LeaseSeconds - (_options.HttpTimeoutMilliseconds / 1000.0));
        Volatile.Write(ref _servableUntil, committedAt + (long)(servable.TotalSeconds * Stopwatch.Frequency));
        Completed(LedgerCycleStep.Published, outcome.Changed);

        // The app's view of spend: written from the committed state only, so it never runs ahead of the totals.
        if (_budgetRowsBehind)
        {
            await budgetTable.WriteAsync(state.Spend, nowUtc, cancellationToken);
            _budgetRowsBehind = false;
        }

        var deleted = 0;
        foreach (var instance in outcome.Retire)
        {
            await pushgateway.DeleteInstanceGroupAsync(instance, cancellationToken);
            Log.Retired(logger, instance);
            if (++deleted == 1)
            {
                Completed(LedgerCycleStep.FirstGroupRetired, outcome.Changed);
            }
        }

        foreach (var group in gateway.Foreign)
        {
            await pushgateway.DeleteForeignGroupAsync(group, cancellationToken);
            Log.ForeignGroupDeleted(logger, _options.LedgerJob, group.Key);
        }

        if (changed)
        {
            await store.SweepAsync(_head, cancellationToken);
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

    private static double Seconds(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / 1000.0;

    private void Completed(LedgerCycleStep step, bool foldedNewData)
    {
        foreach (var observer in _observers)
        {
            observer.StepCompleted(step, foldedNewData);
        }
    }
}
