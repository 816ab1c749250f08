using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Storage.Queues;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.IntegrationTests.Faults;
using RagFunctions.IntegrationTests.Functions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;
using RagFunctions.Tests.Shared;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Load;

/// <summary>
/// A bounded load run of the batch path on one instance (one queue pump with host.json's settings) against Azurite, with
/// a zero-latency model stand-in and the pusher on, compared with Azurite's raw queue rates measured in the same run.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class BatchLoadTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Messages = 2_000;
    private const string Model = "amazon.nova-lite-v1:0";

    [Fact]
    public async Task OneInstanceAnswersABatchOfTwoThousandWithNothingLostAndReportsItsRateAgainstRawAzurite()
    {
        var watch = Stopwatch.StartNew();
        var rawEnqueue = await RawEnqueueRateAsync(senders: 16);
        var rawDrain = await RawReceiveDeleteRateAsync(receivers: 4);

        await using var pushgateway = await PushgatewayServer.StartAsync();
        var settings = AppHostFixture.Settings(azurite);
        settings["Rag:MaxBatchQuestions"] = Messages.ToString(CultureInfo.InvariantCulture);
        settings["Rag:MaxBodyBytes"] = (1024 * 1024).ToString(CultureInfo.InvariantCulture);
        settings["Rag:Push:Enabled"] = "true";
        settings["Rag:Push:Url"] = pushgateway.Url.ToString();
        await using var host = await InProcessFunctionHost.StartAsync(settings, overrides: services => services.AddSingleton<IChatClient>(new FakeModel(Model, "Restart the pod.", input: 120, output: 20)));

        var submit = Stopwatch.StartNew();
        var batchId = await BatchCheck.SubmitAsync(host, BatchCheck.Questions(Messages, "load"));
        var submitRate = Messages / submit.Elapsed.TotalSeconds;

        var queueSettings = Prerequisites.HostQueueSettings;
        var pump = new QueuePump(host, azurite.ConnectionString, queueSettings);
        var latencies = new ConcurrentBag<double>();
        long lastDone = 0;
        var started = Stopwatch.GetTimestamp();
        pump.OnHandled = m =>
        {
            latencies.Add(m.Elapsed.TotalMilliseconds);
            Interlocked.Exchange(ref lastDone, Stopwatch.GetTimestamp());
        };
        await pump.RunUntilIdleAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(120));
        var elapsed = Stopwatch.GetElapsedTime(started, Interlocked.Read(ref lastDone));

        var rows = await BatchCheck.AssertNothingLostAsync(host, azurite.ConnectionString, batchId, Messages);
        Assert.Equal(Messages, pump.Processed);
        Assert.Equal(0, pump.Failed);
        Assert.All(rows, r => Assert.Equal(1, r.DequeueCount));

        var sorted = latencies.Order().ToArray();
        var rate = Messages / elapsed.TotalSeconds;
        var ratio = rate / rawDrain;
        var report = new StringBuilder()
            .AppendLine("# Batch path load run")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"One instance (one queue pump: batchSize {queueSettings.BatchSize}, newBatchThreshold {queueSettings.NewBatchThreshold}), ")
            .AppendLine(CultureInfo.InvariantCulture, $"zero-latency model stand-in ({Model} usage 120/20 tokens), pusher on (push after every message), Azurite {azurite.QueuePort}/{azurite.TablePort}, {Environment.ProcessorCount} CPUs.")
            .AppendLine()
            .AppendLine("| measure | value |")
            .AppendLine("|---|---|")
            .AppendLine(CultureInfo.InvariantCulture, $"| messages | {Messages} (rows {rows.Count}, lost 0, redelivered 0) |")
            .AppendLine(CultureInfo.InvariantCulture, $"| batch path rate | {rate:F0} msg/s ({elapsed.TotalSeconds:F1} s) |")
            .AppendLine(CultureInfo.InvariantCulture, $"| per message p50 / p99 / max (receipt → deleted) | {Percentile(sorted, 0.50):F1} / {Percentile(sorted, 0.99):F1} / {sorted[^1]:F1} ms |")
            .AppendLine(CultureInfo.InvariantCulture, $"| Azurite raw receive(32)+delete, 4 receivers | {rawDrain:F0} msg/s |")
            .AppendLine(CultureInfo.InvariantCulture, $"| ratio batch path / raw | {ratio:F2} (target ≥ 0.7) |")
            .AppendLine(CultureInfo.InvariantCulture, $"| Azurite raw enqueue, 16 senders | {rawEnqueue:F0} msg/s |")
            .AppendLine(CultureInfo.InvariantCulture, $"| batch submit (enqueue of {Messages} by the app) | {submitRate:F0} msg/s |")
            .AppendLine(CultureInfo.InvariantCulture, $"| whole test | {watch.Elapsed.TotalSeconds:F1} s |")
            .ToString();
        output.WriteLine(report);
        await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "load-results.md"), report);
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private QueueClient RawQueue() => new(azurite.ConnectionString, "rawrate");

    /// <summary>Messages/s of <paramref name="senders"/> concurrent senders putting <see cref="Messages"/> small messages.</summary>
    private async Task<double> RawEnqueueRateAsync(int senders)
    {
        var queue = RawQueue();
        await queue.CreateIfNotExistsAsync();
        var next = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, senders).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= Messages)
            {
                await queue.SendMessageAsync("""{"version":2,"batchId":"00000000000000000000000000000000","index":0}""");
            }
        })));
        return Messages / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Messages/s of <paramref name="receivers"/> loops each receiving 32 and deleting them (concurrently) until the queue is empty.</summary>
    private async Task<double> RawReceiveDeleteRateAsync(int receivers)
    {
        var queue = RawQueue();
        var deleted = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, receivers).Select(_ => Task.Run(async () =>
        {
            while (Volatile.Read(ref deleted) < Messages)
            {
                var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value;
                await Task.WhenAll(batch.Select(m => queue.DeleteMessageAsync(m.MessageId, m.PopReceipt)));
                Interlocked.Add(ref deleted, batch.Length);
            }
        })));
        Assert.Equal(Messages, deleted);
        return Messages / watch.Elapsed.TotalSeconds;
    }
}

/// <summary>Load runs alone, after the parallel tests, so the rates measure Azurite and the batch path, not the neighbours.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadCollection
{
    public const string Name = "load, run alone";
}
