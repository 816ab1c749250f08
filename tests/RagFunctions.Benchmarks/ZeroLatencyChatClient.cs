using Microsoft.Extensions.AI;
using RagFunctions.Core.Generation;

namespace RagFunctions.Benchmarks;

/// <summary>
/// A model that answers instantly with a fixed text and fixed usage (Bedrock-shaped: input excludes cache tokens), under a
/// priced model id, so a query through it costs exactly the pipeline's own work. Each call returns a fresh response, as a
/// real provider does (the metering wrapper annotates it).
/// </summary>
public sealed class ZeroLatencyChatClient : IChatClient
{
    public const string ModelId = "amazon.nova-lite-v1:0";

    private static readonly ChatClientMetadata Metadata = new("zero-latency", defaultModelId: ModelId);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Check the runbook for the alert [1]."))
        {
            ModelId = ModelId,
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails
            {
                InputTokenCount = 1_200,
                OutputTokenCount = 150,
                TotalTokenCount = 1_350,
                AdditionalCounts = new AdditionalPropertiesDictionary<long> { [UsageCounts.CacheRead] = 512, [UsageCounts.CacheWrite] = 0 },
            },
        });

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? Metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
        // Nothing held.
    }
}
