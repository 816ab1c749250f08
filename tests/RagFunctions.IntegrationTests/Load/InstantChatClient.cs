using Microsoft.Extensions.AI;

namespace RagFunctions.IntegrationTests.Load;

/// <summary>A zero-latency model stand-in: answers at once with fixed usage, so a load run measures the batch path, not a model.</summary>
internal sealed class InstantChatClient(string modelId) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new("instant", null, modelId);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Restart the pod."))
        {
            ModelId = modelId,
            Usage = new UsageDetails { InputTokenCount = 120, OutputTokenCount = 20, TotalTokenCount = 140 },
        });

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? _metadata : serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
