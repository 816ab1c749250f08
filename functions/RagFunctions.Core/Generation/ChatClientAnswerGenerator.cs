using System.Diagnostics;
using Microsoft.Extensions.AI;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core.Generation;

/// <summary>
/// Lets any Microsoft.Extensions.AI <see cref="IChatClient"/> answer: renders the prompt (<see cref="PromptBuilder"/>),
/// makes one non-streaming call and reads the response's <see cref="UsageDetails"/> into <see cref="TokenUsage"/>.
/// Bedrock answers through it (its <c>BedrockConverseChatClient</c> is an IChatClient), and so does any client
/// registered as IChatClient in the container.
/// </summary>
public sealed class ChatClientAnswerGenerator : IAnswerGenerator
{
    private readonly IChatClient _chat;
    private readonly ChatOptions _options = new();

    /// <param name="chat">The client that answers.</param>
    /// <param name="modelId">The model label; by default the client's <see cref="ChatClientMetadata.DefaultModelId"/>.</param>
    public ChatClientAnswerGenerator(IChatClient chat, string? modelId = null)
    {
        _chat = chat;
        ModelId = modelId ?? chat.GetService<ChatClientMetadata>()?.DefaultModelId
            ?? throw new InvalidOperationException(
                $"The IChatClient {chat.GetType().Name} reports no model id (ChatClientMetadata.DefaultModelId): metering needs one to label and price its tokens.");
    }

    public string ModelId { get; }

    public async Task<GeneratedAnswer> GenerateAsync(string question, IReadOnlyList<RetrievedPassage> passages, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var response = await _chat.GetResponseAsync(PromptBuilder.Build(question, passages), _options, cancellationToken);
        return new GeneratedAnswer(response.Text, TokenUsageOf(response.Usage), ModelId, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// Input excludes cache tokens (Bedrock's convention); cache reads and writes are separate counts under
    /// <see cref="UsageCounts"/>, so each token is priced exactly once.
    /// </summary>
    public static TokenUsage TokenUsageOf(UsageDetails? usage)
    {
        if (usage is null)
        {
            return default;
        }

        long cacheRead = 0, cacheWrite = 0;
        usage.AdditionalCounts?.TryGetValue(UsageCounts.CacheRead, out cacheRead);
        usage.AdditionalCounts?.TryGetValue(UsageCounts.CacheWrite, out cacheWrite);
        return new TokenUsage(usage.InputTokenCount ?? 0, usage.OutputTokenCount ?? 0, cacheRead, cacheWrite);
    }
}

/// <summary>Keys of <see cref="UsageDetails.AdditionalCounts"/> that providers fill with prompt-cache tokens.</summary>
public static class UsageCounts
{
    public const string CacheRead = "cache_read";
    public const string CacheWrite = "cache_write";
}
