using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using RagFunctions.Core.Metrics;
using RagFunctions.IntegrationTests.Functions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.IntegrationTests.Ledger;
using RagFunctions.TestHost;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>
/// One instance pushing after every queue message and every second while its Pushgateway is hung (SIGSTOP), down
/// (SIGTERM), back, and restarted with its persistence file mid-batch.
/// </summary>
public sealed class PushgatewayOutageTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int PushTimeoutMs = 250;

    // Room for a loaded 2-core CI machine's scheduling noise on top of the push bound being asserted.
    private const int SchedulingSlackMs = 2_000;
    private const int PerPhase = 24;

    [Fact]
    public async Task PushesFailBoundedWhilePushgatewayIsHungOrDownAndTheLedgerConvergesToTheTruthOnceItIsBack()
    {
        var watch = Stopwatch.StartNew();
        await using var pushgateway = await PushgatewayServer.StartAsync();
        using var ledger = LedgerCheck.Start(pushgateway, azurite);
        var settings = AppHostFixture.Settings(azurite);
        settings["Rag:MaxBatchQuestions"] = "1000";
        settings["Rag:Push:Enabled"] = "true";
        settings["Rag:Push:Url"] = pushgateway.Url.ToString();
        settings["Rag:Push:IntervalSeconds"] = "1";
        settings["Rag:Push:TimeoutMilliseconds"] = PushTimeoutMs.ToString(CultureInfo.InvariantCulture);
        var host = await InProcessFunctionHost.StartAsync(settings);
        var metrics = (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;
        var queueSettings = Prerequisites.HostQueueSettings with { VisibilityTimeout = TimeSpan.Zero };
        var batches = new List<string>();
        var phases = new List<string>();

        async Task<(double MaxMessageMs, double MaxQueryMs)> RunPhaseAsync(string phase, Func<Task>? midBatch = null)
        {
            var failuresBefore = metrics.PushFailures.Value;
            var batchId = await BatchCheck.SubmitAsync(host, BatchCheck.Questions(PerPhase, phase));
            batches.Add(batchId);
            var pump = new QueuePump(host, azurite.ConnectionString, queueSettings);
            var elapsed = new ConcurrentBag<double>();
            pump.OnHandled = m => elapsed.Add(m.Elapsed.TotalMilliseconds);
            var draining = pump.RunUntilIdleAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(60));
            if (midBatch is not null)
            {
                await midBatch();
            }

            var queryMs = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var answer = await host.SendAsync("POST", "/api/query", """{"question":"What does MetricsPushFailing mean?"}""");
                queryMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Assert.Equal(200, answer.Status);
            }

            await draining;
            await BatchCheck.AssertNothingLostAsync(host, azurite.ConnectionString, batchId, PerPhase);
            var line = $"{watch.Elapsed:mm\\:ss\\.f} {phase,-22} messages {elapsed.Count}, max per message {elapsed.Max():F0} ms, " +
                $"max HTTP query {queryMs.Max():F0} ms, push failures +{metrics.PushFailures.Value - failuresBefore}";
            phases.Add(line);
            output.WriteLine(line);
            return (elapsed.Max(), queryMs.Max());
        }

        // While the Pushgateway is up, a push fails only when the loaded test machine stalls it past the 250 ms bound (rare,
        // and counted like any failure: the totals must still match). While it is hung or down, every push fails. The
        // phases must differ by that much; a zero here would be a timing assertion on a shared CI machine.
        var failuresAtStart = metrics.PushFailures.Value;
        var baseline = await RunPhaseAsync("pushgateway up");
        Assert.InRange(metrics.PushFailures.Value - failuresAtStart, 0, PerPhase / 4);

        // Hung: the process is frozen, so connections open but nothing answers; every push waits out its timeout.
        await SignalAsync("STOP", pushgateway.Pid);
        var failuresBeforeHang = metrics.PushFailures.Value;
        var hung = await RunPhaseAsync("pushgateway hung");
        Assert.True(metrics.PushFailures.Value - failuresBeforeHang >= PerPhase, "every queue message's push should have failed");
        // Each message waited at most one push timeout (queue + PUT are bounded together); HTTP queries never push.
        Assert.InRange(hung.MaxMessageMs, 0, baseline.MaxMessageMs + PushTimeoutMs + SchedulingSlackMs);
        Assert.InRange(hung.MaxQueryMs, 0, baseline.MaxQueryMs + PushTimeoutMs + SchedulingSlackMs);
        await SignalAsync("CONT", pushgateway.Pid);

        // Down: connection refused.
        pushgateway.Stop();
        var failuresBeforeDown = metrics.PushFailures.Value;
        var down = await RunPhaseAsync("pushgateway down");
        Assert.True(metrics.PushFailures.Value - failuresBeforeDown >= PerPhase, "every queue message's push should have failed");
        Assert.InRange(down.MaxMessageMs, 0, baseline.MaxMessageMs + PushTimeoutMs + SchedulingSlackMs);

        await pushgateway.StartAgainAsync();
        var failuresAtBack = metrics.PushFailures.Value;
        await RunPhaseAsync("pushgateway back");
        Assert.InRange(metrics.PushFailures.Value - failuresAtBack, 0, PerPhase / 4);

        // Restarted with its persistence file while the batch is being answered.
        await RunPhaseAsync("pushgateway restarted", pushgateway.RestartAsync);

        // A clean stop pushes the final registry; that is the truth the ledger must reach.
        await host.DisposeAsync();
        var final = await Exposition.ReadAsync(metrics);
        var (pushed, folded) = await LedgerCheck.WaitForConvergenceAsync(pushgateway, ledger, TimeSpan.FromSeconds(30));
        Assert.Empty(SeriesComparison.Mismatches(final, pushed));

        var answered = 0;
        foreach (var batchId in batches)
        {
            answered += (await BatchCheck.RowsAsync(azurite.ConnectionString, batchId)).Count;
        }

        var queueSuccesses = LedgerCheck.Total(folded, "rag_requests_total", "trigger=\"queue\"", "outcome=\"success\"");
        var pushFailures = LedgerCheck.Total(folded, "rag_metrics_push_failures_total");
        output.WriteLine($"answered {answered}; ledger queue successes {queueSuccesses}; ledger push failures {pushFailures} " +
            $"(instance counted {metrics.PushFailures.Value}); series compared {pushed.Count}; duration {watch.Elapsed}");
        Assert.Equal(batches.Count * PerPhase, answered);
        Assert.Equal(answered, queueSuccesses);
        Assert.Equal(metrics.PushFailures.Value, pushFailures);
    }

    private static async Task SignalAsync(string signal, int pid)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }
}
