using System.IO.Compression;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace RagFunctions.Ledger;

/// <summary>The head row: which generation of the state is current, and who holds the single-writer lease.</summary>
public sealed record LedgerHead(long Generation, string WriteId, int Chunks, string Holder, long LeaseUntilMs, ETag ETag);

/// <summary>A state written as chunk rows that no head points at yet.</summary>
public sealed record StagedState(long Generation, string WriteId, int Chunks);

/// <summary>Another writer moved the head first (HTTP 409/412): reload and fold again.</summary>
public sealed class LedgerConflictException(string message) : Exception(message);

/// <summary>
/// The state in Azure Table storage, one partition per ledger. The state document (JSON, gzip) is written as new,
/// unreferenced chunk rows <c>state-&lt;generation&gt;-&lt;writeId&gt;-&lt;n&gt;</c>; the commit is one conditional update
/// (ETag) of the <c>head</c> row that points at them. A writer that loses the race, or crashes before the head moves,
/// leaves only unreferenced chunks, which the next commit sweeps. So a state is either wholly committed or not at
/// all, whatever its size, and two writers can never both commit on the same generation.
/// </summary>
public sealed class LedgerStateStore(TableClient table, string partition)
{
    private const string HeadKey = "head";
    private const string ChunkPrefix = "state-";
    private const int ChunkBytes = 60 * 1024; // Table binary properties hold at most 64 KiB.
    private const int ChunksPerTransaction = 50; // A transaction carries at most 100 operations and 4 MiB.

    public async Task EnsureTableAsync(CancellationToken cancellationToken) => await table.CreateIfNotExistsAsync(cancellationToken);

    public async Task<LedgerHead?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partition, HeadKey, cancellationToken: cancellationToken);
        if (!response.HasValue || response.Value is not { } entity)
        {
            return null;
        }

        return new LedgerHead(
            entity.GetInt64("Generation") ?? 0,
            entity.GetString("WriteId") ?? string.Empty,
            entity.GetInt32("Chunks") ?? 0,
            entity.GetString("Holder") ?? string.Empty,
            entity.GetInt64("LeaseUntilMs") ?? 0,
            entity.ETag);
    }

    public async Task<LedgerState> ReadStateAsync(LedgerHead? head, CancellationToken cancellationToken)
    {
        if (head is null || head.Chunks == 0)
        {
            return new LedgerState();
        }

        var prefix = ChunkKeyPrefix(head.Generation, head.WriteId);
        using var compressed = new MemoryStream();
        var count = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(
            e => e.PartitionKey == partition && e.RowKey.CompareTo(prefix) >= 0 && e.RowKey.CompareTo(prefix + "~") < 0,
            select: ["Data"], cancellationToken: cancellationToken))
        {
            var data = row.GetBinary("Data") ?? [];
            await compressed.WriteAsync(data, cancellationToken);
            count++;
        }

        if (count != head.Chunks)
        {
            throw new LedgerConflictException($"state generation {head.Generation} has {count} of {head.Chunks} chunks: it was superseded while reading");
        }

        compressed.Position = 0;
        await using var json = new GZipStream(compressed, CompressionMode.Decompress);
        return await JsonSerializer.DeserializeAsync(json, LedgerStateJson.Default.LedgerState, cancellationToken)
            ?? throw new InvalidDataException("empty ledger state");
    }

    /// <summary>
    /// Writes <paramref name="state"/> as the chunk rows of the generation after <paramref name="current"/>. Nothing points
    /// at them until <see cref="CommitAsync"/> moves the head, so a crash here leaves only rows the next commit sweeps.
    /// </summary>
    public async Task<StagedState> StageAsync(LedgerHead? current, LedgerState state, CancellationToken cancellationToken)
    {
        var generation = (current?.Generation ?? 0) + 1;
        var writeId = Guid.NewGuid().ToString("N");
        return new StagedState(generation, writeId, await WriteChunksAsync(state, generation, writeId, cancellationToken));
    }

    /// <summary>
    /// Moves the head from <paramref name="current"/> (null: no head yet) to <paramref name="staged"/>, or only renews the
    /// lease when <paramref name="staged"/> is null. Throws <see cref="LedgerConflictException"/> when another writer moved
    /// the head first; the staged rows are then deleted.
    /// </summary>
    public async Task<LedgerHead> CommitAsync(
        LedgerHead? current, StagedState? staged, string holder, long leaseUntilMs, CancellationToken cancellationToken)
    {
        var (generation, writeId, chunks) = staged is not null
            ? (staged.Generation, staged.WriteId, staged.Chunks)
            : (current?.Generation ?? 0, current?.WriteId ?? string.Empty, current?.Chunks ?? 0);
        var head = new TableEntity(partition, HeadKey)
        {
            ["Generation"] = generation,
            ["WriteId"] = writeId,
            ["Chunks"] = chunks,
            ["Holder"] = holder,
            ["LeaseUntilMs"] = leaseUntilMs,
        };
        try
        {
            var response = current is null
                ? await table.AddEntityAsync(head, cancellationToken)
                : await table.UpdateEntityAsync(head, current.ETag, TableUpdateMode.Replace, cancellationToken);
            return new LedgerHead(generation, writeId, chunks, holder, leaseUntilMs, response.Headers.ETag ?? default);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            if (staged is not null)
            {
                await DeleteChunksAsync(ChunkKeyPrefix(generation, writeId), null, cancellationToken);
            }

            throw new LedgerConflictException($"head moved by another writer (HTTP {ex.Status})");
        }
    }

    /// <summary>Deletes chunk rows that can never be committed: every generation up to the head's, except the head's own.</summary>
    public Task SweepAsync(LedgerHead head, CancellationToken cancellationToken) =>
        DeleteChunksAsync(ChunkPrefix, (ChunkKeyPrefix(head.Generation + 1, string.Empty), ChunkKeyPrefix(head.Generation, head.WriteId)), cancellationToken);

    private static string ChunkKeyPrefix(long generation, string writeId) => $"{ChunkPrefix}{generation:D19}-{writeId}";

    private async Task<int> WriteChunksAsync(LedgerState state, long generation, string writeId, CancellationToken cancellationToken)
    {
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            await JsonSerializer.SerializeAsync(gzip, state, LedgerStateJson.Default.LedgerState, cancellationToken);
        }

        var bytes = compressed.ToArray();
        var prefix = ChunkKeyPrefix(generation, writeId);
        var actions = new List<TableTransactionAction>();
        var index = 0;
        for (var offset = 0; offset < bytes.Length || index == 0; offset += ChunkBytes, index++)
        {
            var entity = new TableEntity(partition, $"{prefix}-{index:D6}")
            {
                ["Data"] = bytes.AsSpan(offset, Math.Min(ChunkBytes, bytes.Length - offset)).ToArray(),
            };
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity));
            if (actions.Count == ChunksPerTransaction)
            {
                await table.SubmitTransactionAsync(actions, cancellationToken);
                actions.Clear();
            }
        }

        if (actions.Count > 0)
        {
            await table.SubmitTransactionAsync(actions, cancellationToken);
        }

        return index;
    }

    /// <summary>Deletes rows starting with <paramref name="prefix"/>; with a range, only those below its end and not under its keep prefix.</summary>
    private async Task DeleteChunksAsync(string prefix, (string Below, string Keep)? range, CancellationToken cancellationToken)
    {
        var end = range?.Below ?? prefix + "~";
        var doomed = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(
            e => e.PartitionKey == partition && e.RowKey.CompareTo(prefix) >= 0 && e.RowKey.CompareTo(end) < 0,
            select: ["RowKey"], cancellationToken: cancellationToken))
        {
            if (range is null || !row.RowKey.StartsWith(range.Value.Keep, StringComparison.Ordinal))
            {
                doomed.Add(row.RowKey);
            }
        }

        foreach (var batch in doomed.Chunk(100))
        {
            await table.SubmitTransactionAsync(
                batch.Select(key => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, key), ETag.All)),
                cancellationToken);
        }
    }
}
