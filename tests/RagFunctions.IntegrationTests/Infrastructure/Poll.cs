namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>Waits for a condition by polling it every 100 ms.</summary>
internal static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Returns once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> naming <paramref name="what"/>
    /// (and appending <paramref name="diagnostics"/>, when given) if it still does not after <paramref name="timeout"/>.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not reached within {timeout}: {what}" + (diagnostics is null ? string.Empty : "\n" + diagnostics()));
            }

            await Task.Delay(Interval);
        }
    }
}
