using System.Diagnostics;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>The outcome of a command that ran to completion.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Both streams, for assertion messages.</summary>
    public string Output => $"{StandardOutput}{Environment.NewLine}{StandardError}".Trim();
}

/// <summary>Runs a command to completion with a timeout, capturing stdout, stderr and the exit code.</summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(
        string executable, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null,
        CancellationToken cancellationToken = default, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {executable}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // Kill by our own PID (and its children) so a hung command never outlives the test.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{executable} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}:\n{await stdout}\n{await stderr}");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
