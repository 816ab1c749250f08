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
        if (!await TryUntilAsync(condition, timeout))
        {
            throw new TimeoutException($"not reached within {timeout}: {what}" + (diagnostics is null ? string.Empty : "\n" + diagnostics()));
        }
    }

    /// <summary>
    /// Whether <paramref name="condition"/> came to hold within <paramref name="timeout"/>. For shared runs that record an
    /// outcome for a fact to assert, so one condition that never holds fails its own fact instead of the whole run.
    /// </summary>
    public static async Task<bool> TryUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(Interval);
        }

        return true;
    }
}
