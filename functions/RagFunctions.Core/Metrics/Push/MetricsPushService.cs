using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RagFunctions.Core.Metrics.Push;

/// <summary>Pushes at start-up (before the host starts invoking functions), every interval, and once more at shutdown.</summary>
public sealed class MetricsPushService(MetricsPusher pusher, IOptions<PushOptions> options, ILogger<MetricsPushService> logger, TimeProvider time)
    : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!pusher.IsEnabled)
        {
            return;
        }

        Log.PushStarting(logger, pusher.GroupUrl);
        await pusher.PushAsync(cancellationToken);
        _loop = RunAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is null)
        {
            return;
        }

        await _loop;

        var bound = TimeSpan.FromMilliseconds(options.Value.ShutdownTimeoutMilliseconds);
        var pushed = await pusher.PushAsync(bound, cancellationToken);
        Log.FinalPush(logger, pusher.GroupUrl, pushed);
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RunAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.IntervalSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                await pusher.PushAsync(stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping: the final push happens in StopAsync.
        }
    }
}
