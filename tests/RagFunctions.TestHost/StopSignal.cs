using System.Runtime.InteropServices;

namespace RagFunctions.TestHost;

/// <summary>SIGTERM or SIGINT (Ctrl+C) cancels <see cref="Token"/> instead of ending the process, so the caller stops cleanly.</summary>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly PosixSignalRegistration _sigterm;
    private readonly PosixSignalRegistration _sigint;

    public StopSignal()
    {
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    }

    public CancellationToken Token => _stopping.Token;

    public bool IsStopping => _stopping.IsCancellationRequested;

    public void Dispose()
    {
        _sigterm.Dispose();
        _sigint.Dispose();
        _stopping.Dispose();
    }

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        _stopping.Cancel();
    }
}
