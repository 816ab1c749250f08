using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Options;

namespace RagFunctions.App.Functions;

/// <summary>Records each message the host moved to the poison queue as a failed result (or a dead letter), and counts it once.</summary>
public sealed class RecordPoisonMessage(BatchProcessing batches)
{
    [Function(nameof(RecordPoisonMessage))]
    public Task Run([QueueTrigger(StorageOptions.PoisonQueue)] QueueMessage message, CancellationToken cancellationToken) =>
        batches.RecordPoisonAsync(new QueueDelivery(message.MessageId, message.Body.ToMemory(), message.DequeueCount), cancellationToken);
}
