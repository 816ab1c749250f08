using System.Text.Json.Serialization;

namespace RagFunctions.Core.Generation.Bedrock;

// Wire shapes of the Converse API (only the members this client sends or reads).

internal sealed record ConverseRequest(
    IReadOnlyList<ConverseMessage> Messages,
    IReadOnlyList<ConverseContentBlock>? System,
    ConverseInferenceConfig? InferenceConfig);

internal sealed record ConverseMessage(string Role, IReadOnlyList<ConverseContentBlock> Content);

/// <summary>A content block; only text blocks are sent, other block kinds in responses are ignored.</summary>
internal sealed record ConverseContentBlock(string? Text);

internal sealed record ConverseInferenceConfig(int? MaxTokens, float? Temperature, float? TopP, IReadOnlyList<string>? StopSequences);

internal sealed record ConverseResponse(ConverseOutput? Output, string? StopReason, ConverseUsage? Usage, ConverseMetrics? Metrics);

internal sealed record ConverseOutput(ConverseMessage? Message);

/// <summary>Bedrock token usage: <see cref="InputTokens"/> excludes the cache read/write tokens.</summary>
internal sealed record ConverseUsage(
    long InputTokens,
    long OutputTokens,
    long? TotalTokens,
    long? CacheReadInputTokens,
    long? CacheWriteInputTokens);

internal sealed record ConverseMetrics(long? LatencyMs);

internal sealed record BedrockErrorBody(
    [property: JsonPropertyName("__type")] string? Type,
    string? Message);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ConverseRequest))]
[JsonSerializable(typeof(ConverseResponse))]
[JsonSerializable(typeof(BedrockErrorBody))]
internal sealed partial class BedrockJsonContext : JsonSerializerContext;
