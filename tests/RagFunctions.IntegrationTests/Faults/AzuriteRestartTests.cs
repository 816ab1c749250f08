using System.Diagnostics;
using Azure.Storage.Queues;
using RagFunctions.Core.Options;
using RagFunctions.IntegrationTests.Functions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>Storage (Azurite, queue and table) goes away for a few seconds while a batch is being answered.</summary>
public sealed class AzuriteRestartTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Questions = 300;

    [Fact(Skip = "Open finding: after a restart on the same --location, Azurite 3.37's table service comes back without the tables " +
        "written before it (rows 0, every invocation then fails to TableNotFound and is poisoned); the queue service keeps its messages. " +
        "Re-enable once the table restart keeps its data (or the fixture restarts the queue service only).")]
    public async Task BatchCompletesWithOneRowPerQuestionWhenStorageRestartsMidBatch()
    {
        var watch = Stopwatch.StartNew();
        var settings = AppHostFixture.Settings(azurite);
        settings["Rag:MaxBatchQuestions"] = "1000";
        await using var host = await InProcessFunctionHost.StartAsync(settings);
        var batchId = await BatchCheck.SubmitAsync(host, BatchCheck.Questions(Questions, "a storage restart"));
        // The host leases a received message for 10 minutes; 5 s bounds how long a message whose delete was lost stays hidden.
        var queueSettings = QueueHostSettings.FromHostJson(Path.Combine(Prerequisites.RepoRoot, "host.json")) with
        {
            VisibilityTimeout = TimeSpan.FromSeconds(1),
            MessageLease = TimeSpan.FromSeconds(5),
        };
        var pump = new QueuePump(host, azurite.ConnectionString, queueSettings);
        using var stop = new CancellationTokenSource();
        var running = pump.RunAsync(stop.Token);

        await BatchCheck.WaitUntilAsync(async () => await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId) >= 60, TimeSpan.FromSeconds(30), "60 answers");
        var before = await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId);
        var restart = Stopwatch.StartNew();
        await azurite.RestartGracefullyAsync(TimeSpan.FromSeconds(3));
        output.WriteLine($"{watch.Elapsed}: Azurite stopped with {before}/{Questions} answered, down 3 s, back after {restart.Elapsed}");

        var queue = new QueueClient(azurite.ConnectionString, StorageOptions.QueryQueue);
        try
        {
            await BatchCheck.WaitUntilAsync(async () => await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId) >= Questions, TimeSpan.FromSeconds(60), "every question answered");
        }
        catch (TimeoutException)
        {
            output.WriteLine($"rows {await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId)}, queue {(await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount}, " +
                $"processed {pump.Processed}, failed {pump.Failed}, storage errors {pump.StorageErrors}, poisoned {pump.Poisoned}");
            throw;
        }

        // Messages whose delete failed during the outage come back after their lease and are completed without a second answer.
        await BatchCheck.WaitUntilAsync(async () => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, TimeSpan.FromSeconds(30), "queue drained");
        await stop.CancelAsync();
        await running;

        var rows = await BatchCheck.AssertNothingLostAsync(host, azurite.ConnectionString, batchId, Questions);
        output.WriteLine($"rows {rows.Count}, processed {pump.Processed}, failed deliveries {pump.Failed}, storage errors {pump.StorageErrors}, " +
            $"redelivered {rows.Count(r => r.DequeueCount >= 2)}, duration {watch.Elapsed}");
        Assert.Equal(0, pump.Poisoned);
    }
}
