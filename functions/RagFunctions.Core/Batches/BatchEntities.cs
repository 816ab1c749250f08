using Azure;
using Azure.Data.Tables;
using RagFunctions.Core.Budgets;

namespace RagFunctions.Core.Batches;

/// <summary>One submitted batch: PartitionKey = batch id, RowKey = "batch".</summary>
public sealed class BatchEntity : ITableEntity
{
    public const string Row = "batch";

    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = Row;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public int Count { get; set; }

    public string? Domain { get; set; }

    public DateTimeOffset SubmittedAt { get; set; }

    /// <summary>The submitting tenant, resolved at submission; absent on rows written before tenants were recorded.</summary>
    public string? Tenant { get; set; }
}

/// <summary>One answered (or failed) question: PartitionKey = batch id, RowKey = zero-padded index.</summary>
public sealed class ResultEntity : ITableEntity
{
    // Result row keys are digits only; ':' sorts right after '9' and before every letter (claims, deferral markers).
    private const string RowKeysEnd = ":";

    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public int Index { get; set; }

    public string Status { get; set; } = ResultStatus.Succeeded;

    public string? Question { get; set; }

    public string? Answer { get; set; }

    public string? Error { get; set; }

    public string? Model { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public long CacheReadTokens { get; set; }

    public long CacheWriteTokens { get; set; }

    /// <summary>Decimal cost as invariant text: Table storage has no decimal type and a double would round.</summary>
    public string CostUsd { get; set; } = "0";

    public double LatencyMs { get; set; }

    public int DequeueCount { get; set; }

    public DateTimeOffset CompletedAt { get; set; }

    /// <summary>
    /// The <see cref="ClaimEntity.Owner"/> of the claim the row was written under (null: written by the poison handler),
    /// so a delivery that finds the row existing can tell its own committed write (a retried transaction) from another's.
    /// </summary>
    public string? WrittenBy { get; set; }

    public static string RowKeyOf(int index) => index.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The query filter for every result row of a batch, without the other rows kept in its partition (claims, deferral markers).</summary>
    public static string FilterOf(string batchId) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {batchId} and RowKey lt {RowKeysEnd}");
}

/// <summary>
/// A claim on one result row while its question is answered, kept in the result table: PartitionKey = batch id,
/// RowKey = "claim" + the result's row key, which sorts after every result row key (digits only).
/// </summary>
public sealed class ClaimEntity : ITableEntity
{
    public const string RowKeyPrefix = "claim";

    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    /// <summary>A random id per claim, stamped on the row written under it (<see cref="ResultEntity.WrittenBy"/>), so owners are told apart.</summary>
    public string Owner { get; set; } = string.Empty;

    public DateTimeOffset ExpiresAt { get; set; }

    public static string RowKeyOf(int index) => RowKeyPrefix + ResultEntity.RowKeyOf(index);
}

/// <summary>
/// A batch question held back because its tenant's (or the global) hard limit was reached: one row per question (the
/// first deferral's window and reset), kept in the result table so the rejection counts once however often the question
/// is deferred again or its message duplicated. PartitionKey = batch id, RowKey = "deferred-" + the result's row key
/// (not digits only, so <see cref="ResultEntity.FilterOf"/> skips it).
/// </summary>
public sealed class DeferralEntity : ITableEntity
{
    public const string RowKeyPrefix = "deferred";

    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public int Index { get; set; }

    public string Tenant { get; set; } = string.Empty;

    /// <summary>Whose hard limit was reached: the tenant itself, or <c>_all</c>.</summary>
    public string ExhaustedBudget { get; set; } = string.Empty;

    public string Window { get; set; } = string.Empty;

    /// <summary>The window's reset: the question is answered once its message reappears after it.</summary>
    public DateTimeOffset DeferredUntil { get; set; }

    public DateTimeOffset DeferredAt { get; set; }

    /// <summary>One marker per question, whatever the window: a question deferred again (a later day, or a monthly reset
    /// more than 7 days away) is one rejection, so it counts once.</summary>
    public static string RowKeyOf(int index) => $"{RowKeyPrefix}-{ResultEntity.RowKeyOf(index)}";
}

public static class ResultStatus
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

/// <summary>
/// A poison message that names no question of a batch (not schema version 2, carrying a question or domain, unknown batch or index): kept whole with
/// its reason so nothing is lost. PartitionKey = the poison queue's name, RowKey = the poison message's id, so a
/// redelivery finds the row it already wrote.
/// </summary>
public sealed class DeadLetterEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Content { get; set; } = string.Empty;

    public string Reason { get; set; } = string.Empty;

    public DateTimeOffset RecordedAt { get; set; }
}
