using Microsoft.Extensions.AI;
using RagFunctions.Core.Generation;

namespace RagFunctions.Tests.Shared;

/// <summary>
/// The one model stand-in of the tests and benchmarks: answers at once with a fixed text and fixed usage (Bedrock-shaped:
/// input excludes cache tokens), or fails with a fixed exception. Each call returns a fresh response, as a real provider
/// does, because the metering wrapper annotates it. Linked into each test project from tests/Shared.
/// </summary>
internal sealed class FakeModel : IChatClient
{
    private readonly string? _modelId;
    private readonly string _answer;
    private readonly long _input;
    private readonly long _output;
    private readonly long? _cacheRead;
    private readonly long? _cacheWrite;
    private readonly Exception? _error;
    private readonly ChatClientMetadata? _metadata;

    /// <param name="modelId">Reported on each response and in <see cref="ChatClientMetadata"/>; null reports none.</param>
    /// <param name="cacheRead">Prompt-cache read tokens; null leaves them unreported, as a provider without a cache does.</param>
    /// <param name="cacheWrite">Prompt-cache write tokens; null leaves them unreported.</param>
    public FakeModel(string? modelId, string answer, long input, long output, long? cacheRead = null, long? cacheWrite = null)
    {
        _modelId = modelId;
        _answer = answer;
        _input = input;
        _output = output;
        _cacheRead = cacheRead;
        _cacheWrite = cacheWrite;
        _metadata = modelId is null ? null : new ChatClientMetadata("fake-model", defaultModelId: modelId);
    }

    private FakeModel(Exception error)
        : this(null, string.Empty, 0, 0) => _error = error;

    /// <summary>A model whose every call throws <paramref name="error"/>.</summary>
    public static FakeModel Failing(Exception error) => new(error);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        _error is not null
            ? Task.FromException<ChatResponse>(_error)
            : Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, _answer))
            {
                ModelId = _modelId,
                FinishReason = ChatFinishReason.Stop,
                Usage = Usage(),
            });

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
        // Nothing held.
    }

    private UsageDetails Usage()
    {
        var usage = new UsageDetails { InputTokenCount = _input, OutputTokenCount = _output, TotalTokenCount = _input + _output };
        if (_cacheRead is not null || _cacheWrite is not null)
        {
            usage.AdditionalCounts = new AdditionalPropertiesDictionary<long>
            {
                [UsageCounts.CacheRead] = _cacheRead ?? 0,
                [UsageCounts.CacheWrite] = _cacheWrite ?? 0,
            };
        }

        return usage;
    }
}
