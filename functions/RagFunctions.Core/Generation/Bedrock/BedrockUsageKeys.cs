namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>
/// Keys this client writes into <c>UsageDetails.AdditionalCounts</c> and <c>ChatResponse.AdditionalProperties</c>.
/// <para>
/// Token accounting (differs from the Microsoft.Extensions.AI convention on purpose):
/// <c>UsageDetails.InputTokenCount</c> is Bedrock's <c>inputTokens</c>, which EXCLUDES prompt-cache tokens;
/// cache reads and writes are reported only under <see cref="CacheRead"/> and <see cref="CacheWrite"/>, so each
/// token is counted (and priced) exactly once: input + cache_read + cache_write + output.
/// <c>UsageDetails.CachedInputTokenCount</c> is left unset because its documented meaning is "a subset of
/// InputTokenCount", which Bedrock's numbers are not. <c>TotalTokenCount</c> is Bedrock's <c>totalTokens</c>.
/// </para>
/// </summary>
public static class BedrockUsageKeys
{
    /// <summary>Input tokens read from the prompt cache (Bedrock cacheReadInputTokens).</summary>
    public const string CacheRead = UsageCounts.CacheRead;

    /// <summary>Input tokens written to the prompt cache (Bedrock cacheWriteInputTokens).</summary>
    public const string CacheWrite = UsageCounts.CacheWrite;

    /// <summary>Bedrock's own latency for the call (metrics.latencyMs), a long, in ChatResponse.AdditionalProperties.</summary>
    public const string LatencyMs = "bedrock.latency_ms";
}
