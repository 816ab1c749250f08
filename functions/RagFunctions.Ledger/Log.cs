using Microsoft.Extensions.Logging;

namespace RagFunctions.Ledger;

/// <summary>The ledger's log events: EventIds 4000-4099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Ledger replica {Replica} starting: Pushgateway {Url}, instance job {InstanceJob}, ledger job {LedgerJob}, table {Table}/{Partition}")]
    public static partial void Starting(ILogger logger, string replica, string? url, string instanceJob, string ledgerJob, string table, string partition);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Replica {Replica} is standby: {Holder} holds the lease for {RemainingMs} ms more")]
    public static partial void Standby(ILogger logger, string replica, string holder, long remainingMs);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Committed generation {Generation}: {Groups} groups folded, {Units} series, {Instances} instances, {Tombstones} tombstones, {Retire} to retire")]
    public static partial void Committed(ILogger logger, long generation, int groups, int units, int instances, int tombstones, int retire);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Commit conflict, reloading the state: {Reason}")]
    public static partial void Conflict(ILogger logger, string reason);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Ledger cycle failed; retried next cycle")]
    public static partial void CycleFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Information, Message = "Retired instance group {Instance}")]
    public static partial void Retired(ILogger logger, string instance);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning, Message = "Deleted a group pushed under the ledger's own job {LedgerJob} ({GroupingKey}): only the ledger's /metrics carries its totals")]
    public static partial void ForeignGroupDeleted(ILogger logger, string ledgerJob, string groupingKey);
}
