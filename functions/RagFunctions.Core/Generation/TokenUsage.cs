namespace RagFunctions.Core.Generation;

/// <summary>Tokens of one model call. Input excludes the cache tokens, as Bedrock reports it.</summary>
public readonly record struct TokenUsage(long Input, long Output, long CacheRead, long CacheWrite)
{
    public long Total => Input + Output + CacheRead + CacheWrite;
}
