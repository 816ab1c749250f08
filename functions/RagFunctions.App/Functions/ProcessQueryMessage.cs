using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Options;

namespace RagFunctions.App.Functions;

/// <summary>Answers one queued batch question; throwing leaves the message to the host's retry and poison handling.</summary>
public sealed class ProcessQueryMessage(BatchProcessing batches)
{
    [Function(nameof(ProcessQueryMessage))]
    public Task Run([QueueTrigger(StorageOptions.QueryQueue)] QueueMessage message, CancellationToken cancellationToken) =>
        batches.ProcessAsync(new QueueDelivery(message.MessageId, message.Body.ToMemory(), message.DequeueCount), cancellationToken);
}
