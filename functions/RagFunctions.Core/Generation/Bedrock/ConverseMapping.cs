using Microsoft.Extensions.AI;

namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>Maps Microsoft.Extensions.AI chat types to Converse requests and back.</summary>
internal static class ConverseMapping
{
    public static ConverseRequest ToRequest(IEnumerable<ChatMessage> messages, ChatOptions? chatOptions, BedrockOptions options)
    {
        var system = new List<ConverseContentBlock>();
        var turns = new List<ConverseMessage>();
        foreach (var message in messages)
        {
            var blocks = message.Contents
                .OfType<TextContent>()
                .Where(t => !string.IsNullOrEmpty(t.Text))
                .Select(t => new ConverseContentBlock(t.Text))
                .ToList();

            if (message.Role == ChatRole.System)
            {
                system.AddRange(blocks);
            }
            else if (message.Role == ChatRole.User || message.Role == ChatRole.Assistant)
            {
                // Bedrock rejects empty content blocks; a message without text has nothing to send.
                if (blocks.Count > 0)
                {
                    turns.Add(new ConverseMessage(message.Role == ChatRole.User ? "user" : "assistant", blocks));
                }
            }
            else
            {
                throw new NotSupportedException($"Chat role '{message.Role}' is not supported by the Bedrock Converse client (only system, user and assistant).");
            }
        }

        var inference = new ConverseInferenceConfig(
            chatOptions?.MaxOutputTokens ?? options.MaxTokens,
            chatOptions?.Temperature ?? options.Temperature,
            chatOptions?.TopP,
            chatOptions?.StopSequences is { Count: > 0 } stops ? [.. stops] : null);

        return new ConverseRequest(turns, system.Count > 0 ? system : null, inference);
    }

    public static ChatResponse ToChatResponse(ConverseResponse response, string modelId)
    {
        var contents = response.Output?.Message?.Content?
            .Where(b => b.Text is not null)
            .Select(AIContent (b) => new TextContent(b.Text))
            .ToList() ?? [];

        var chatResponse = new ChatResponse(new ChatMessage(ChatRole.Assistant, contents))
        {
            ModelId = modelId,
            FinishReason = FinishReasonOf(response.StopReason),
            Usage = UsageOf(response.Usage),
            RawRepresentation = response,
        };

        if (response.Metrics?.LatencyMs is { } latency)
        {
            chatResponse.AdditionalProperties = new AdditionalPropertiesDictionary { [BedrockUsageKeys.LatencyMs] = latency };
        }

        return chatResponse;
    }

    public static ChatFinishReason? FinishReasonOf(string? stopReason) => stopReason switch
    {
        null or "" => null,
        "end_turn" or "stop_sequence" => ChatFinishReason.Stop,
        "max_tokens" or "model_context_window_exceeded" => ChatFinishReason.Length,
        "content_filtered" or "guardrail_intervened" => ChatFinishReason.ContentFilter,
        "tool_use" => ChatFinishReason.ToolCalls,
        _ => new ChatFinishReason(stopReason),
    };

    private static UsageDetails? UsageOf(ConverseUsage? usage)
    {
        if (usage is null)
        {
            return null;
        }

        var cacheRead = usage.CacheReadInputTokens ?? 0;
        var cacheWrite = usage.CacheWriteInputTokens ?? 0;
        return new UsageDetails
        {
            // Bedrock's inputTokens: prompt tokens NOT served from or written to the cache (see BedrockUsageKeys).
            InputTokenCount = usage.InputTokens,
            OutputTokenCount = usage.OutputTokens,
            TotalTokenCount = usage.TotalTokens ?? usage.InputTokens + usage.OutputTokens + cacheRead + cacheWrite,
            AdditionalCounts = new AdditionalPropertiesDictionary<long>
            {
                [BedrockUsageKeys.CacheRead] = cacheRead,
                [BedrockUsageKeys.CacheWrite] = cacheWrite,
            },
        };
    }
}
