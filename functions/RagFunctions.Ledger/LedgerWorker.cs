using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RagFunctions.Ledger;

/// <summary>
/// One fold cycle every interval: read the head (lease), load the state if it moved, read all Pushgateway groups,
/// fold, commit conditionally (ETag), then push the ledger group from exactly the committed state, then delete the
/// groups retired by that commit. Every step is idempotent, so a crash anywhere is repaired by the next cycle.
/// </summary>
public sealed class LedgerWorker(
    LedgerStateStore store,
    PushgatewayClient pushgateway,
    IOptions<LedgerOptions> options,
    TimeProvider time,
    IEnumerable<ILedgerCycleObserver> observers,
    ILogger<LedgerWorker> logger)
    : BackgroundService
{
    private readonly LedgerOptions _options = options.Value;
    private readonly string _replica = options.Value.ReplicaId!;
    private readonly ILedgerCycleObserver[] _observers = [.. observers];
    private LedgerHead? _head;
    private LedgerState? _state;
    private bool _dirty;
    private bool _standbyLogged;
    private bool _pushgatewayTrouble;
    private string? _pushgatewayStart;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.Starting(logger, _replica, _options.PushgatewayUrl, _options.InstanceJob, _options.LedgerJob, _options.StateTable, _options.StatePartition);
        await store.EnsureTableAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.FoldIntervalSeconds), time);
        do
        {
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
                _pushgatewayTrouble |= ex is HttpRequestException or TaskCanceledException;
                // The in-memory state may be ahead of the committed one: start from the store again.
                Log.CycleFailed(logger, ex);
                _state = null;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One cycle; public so the steps read in order.</summary>
    public async Task RunCycleAsync(CancellationToken cancellationToken)
    {
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
        var started = await pushgateway.GetStartTimeAsync(cancellationToken);
        var json = await pushgateway.GetGroupsJsonAsync(cancellationToken);
        var (groups, groupCount) = PushgatewayGroups.Parse(json, _options.InstanceJob);
        var now = Seconds(time.GetUtcNow());
        if (_pushgatewayTrouble || (_pushgatewayStart is not null && _pushgatewayStart != started))
        {
            _dirty |= LedgerExposition.RestartHolds(state, now, _options.FirstSampleHoldSeconds);
        }

        _pushgatewayTrouble = false;
        _pushgatewayStart = started;
        var outcome = LedgerFold.Fold(state, groups, now, _options.StaleAfterSeconds, _options.TombstoneRetentionSeconds, _options.PlausibleMaxDelta);
        var changed = outcome.Changed || _dirty;
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

        // Fencing: push only while the lease just renewed certainly still holds, so a replica that took over cannot be overtaken.
        var elapsed = Stopwatch.GetElapsedTime(committedAt);
        if (elapsed.TotalSeconds + (_options.HttpTimeoutMilliseconds / 1000.0) >= _options.LeaseSeconds)
        {
            Log.PushSkipped(logger, elapsed.TotalMilliseconds);
            return;
        }

        var (text, unconfirmed) = LedgerExposition.Render(state, Seconds(time.GetUtcNow()), _options.FirstSampleHoldSeconds,
            new LedgerSelfMetrics(now, groupCount, _options.PlausibleMaxDelta.Keys));
        await pushgateway.PutLedgerGroupAsync(text, cancellationToken);
        var accepted = Seconds(time.GetUtcNow());
        foreach (var unit in unconfirmed)
        {
            // The hold starts when the zero is on the Pushgateway; the stamp is committed by the next cycle, before any non-zero push.
            unit.FirstPushedAt ??= accepted;
            _dirty = true;
        }

        Completed(LedgerCycleStep.Pushed, outcome.Changed);

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

        if (changed)
        {
            await store.SweepAsync(_head, cancellationToken);
        }
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
