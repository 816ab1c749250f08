using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using RagFunctions.App.Functions;
using RagFunctions.Core.Options;

namespace RagFunctions.TestHost;

/// <summary>The queue settings of host.json that the pump honours.</summary>
public sealed record QueueHostSettings(int BatchSize, int MaxDequeueCount, TimeSpan VisibilityTimeout)
{
    /// <summary>Reads extensions.queues of a host.json (comments allowed, as the Functions host allows them).</summary>
    public static QueueHostSettings FromHostJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var queues = doc.RootElement.GetProperty("extensions").GetProperty("queues");
        return new QueueHostSettings(
            queues.GetProperty("batchSize").GetInt32(),
            queues.GetProperty("maxDequeueCount").GetInt32(),
            TimeSpan.Parse(queues.GetProperty("visibilityTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>
/// Stands in for the Functions host's queue listener against a real queue (Azurite): receives up to batchSize messages,
/// invokes the function, deletes on success, makes a failed message visible again after visibilityTimeout, and moves it to
/// the poison queue once it has been dequeued maxDequeueCount times — the host's documented semantics.
/// </summary>
public sealed class QueuePump(InProcessFunctionHost host, string connectionString, QueueHostSettings settings)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private readonly QueueClient _queue = Client(connectionString, StorageOptions.QueryQueue);
    private readonly QueueClient _poison = Client(connectionString, StorageOptions.PoisonQueue);

    private int _processed;
    private int _failed;
    private int _poisoned;

    public int Processed => _processed;

    public int Failed => _failed;

    public int Poisoned => _poisoned;

    /// <summary>Runs until both queues stay empty for <paramref name="quiet"/> or <paramref name="timeout"/> passes.</summary>
    public async Task RunUntilIdleAsync(TimeSpan quiet, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await _queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await _poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var deadline = DateTime.UtcNow + timeout;
        var idleSince = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            var worked = await PumpOnceAsync(_queue, nameof(ProcessQueryMessage), cancellationToken)
                         | await PumpOnceAsync(_poison, nameof(RecordPoisonMessage), cancellationToken);
            if (worked)
            {
                idleSince = DateTime.UtcNow;
            }
            else if (DateTime.UtcNow - idleSince >= quiet)
            {
                return;
            }
            else
            {
                await Task.Delay(50, cancellationToken);
            }
        }

        throw new TimeoutException($"The queues did not drain within {timeout}.");
    }

    private async Task<bool> PumpOnceAsync(QueueClient queue, string function, CancellationToken cancellationToken)
    {
        QueueMessage[] messages = (await queue.ReceiveMessagesAsync(settings.BatchSize, Lease, cancellationToken)).Value;
        await Task.WhenAll(messages.Select(m => HandleAsync(queue, function, m, cancellationToken)));
        return messages.Length > 0;
    }

    private async Task HandleAsync(QueueClient queue, string function, QueueMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await host.InvokeQueueAsync(function, message, cancellationToken);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            Interlocked.Increment(ref _processed);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failed);
            if (message.DequeueCount >= settings.MaxDequeueCount && queue != _poison)
            {
                await _poison.SendMessageAsync(message.MessageText, cancellationToken);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                Interlocked.Increment(ref _poisoned);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: settings.VisibilityTimeout, cancellationToken: cancellationToken);
            }
        }
    }

    private static QueueClient Client(string connectionString, string name) =>
        new(connectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
}
