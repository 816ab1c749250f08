using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Options;

namespace RagFunctions.Core.Batches;

/// <summary>The batch path's queue and tables, created on first use.</summary>
public sealed class BatchStorage
{
    private readonly Lock _gate = new();
    private Task? _created;

    public BatchStorage(IOptions<StorageOptions> options)
    {
        var o = options.Value;
        // The Functions queue trigger decodes base64 by default (host.json messageEncoding), so send base64.
        Queue = new QueueClient(o.ConnectionString, StorageOptions.QueryQueue,
            new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var tables = new TableServiceClient(o.ConnectionString);
        Batches = tables.GetTableClient(o.BatchTable);
        Results = tables.GetTableClient(o.ResultTable);
        DeadLetters = tables.GetTableClient(o.DeadLetterTable);
        Claims = tables.GetTableClient(o.ClaimTable);
    }

    public QueueClient Queue { get; }

    public TableClient Batches { get; }

    public TableClient Results { get; }

    public TableClient DeadLetters { get; }

    public TableClient Claims { get; }

    /// <summary>Creates the queue and tables once per process; a failed attempt is retried on the next call.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_created is null || _created.IsFaulted || _created.IsCanceled)
            {
                _created = CreateAsync(cancellationToken);
            }

            return _created;
        }
    }

    private async Task CreateAsync(CancellationToken cancellationToken)
    {
        await Queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await Batches.CreateIfNotExistsAsync(cancellationToken);
        await Results.CreateIfNotExistsAsync(cancellationToken);
        await DeadLetters.CreateIfNotExistsAsync(cancellationToken);
        await Claims.CreateIfNotExistsAsync(cancellationToken);
    }

    /// <summary>Inserts <paramref name="entity"/> unless a row with its keys exists; returns false on a duplicate.</summary>
    public static async Task<bool> TryInsertAsync<T>(TableClient table, T entity, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        try
        {
            await table.AddEntityAsync(entity, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }
}
