namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>Wall-clock time in Unix seconds, the unit Prometheus timestamps use.</summary>
internal static class UnixTime
{
    public static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}
