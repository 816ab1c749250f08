using System.Diagnostics;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using RagFunctions.App.Functions;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Options;
using RagFunctions.IntegrationTests.Functions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>
/// Storage (Azurite: queue and table services) goes away while a batch is being answered.
/// <para>
/// The restart is graceful (SIGINT, data saved, then SIGKILL by PID; see <see cref="AzuriteFixture.RestartGracefullyAsync"/>).
/// It cannot honestly be a SIGKILL: Azurite 3.37 keeps queue and table metadata in LokiJS, in memory, and writes it to disk
/// every 5 s or when it closes, so a SIGKILL loses the writes it acknowledged in the last autosave window. A result row
/// insert acknowledged and then lost, while the delete of its message (saved by the other process) was kept, loses the
/// question for any client; Azure Storage never loses an acknowledged write, so that would test the emulator, not the app.
/// What the app does when a write is lost anyway is the second test.
/// </para>
/// </summary>
public sealed class AzuriteRestartTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task BatchCompletesWithOneRowPerQuestionWhenStorageRestartsMidBatch()
    {
        const int questions = 300;
        var watch = Stopwatch.StartNew();
        var settings = AppHostFixture.Settings(azurite);
        settings["Rag:MaxBatchQuestions"] = "1000";
        await using var host = await InProcessFunctionHost.StartAsync(settings);
        var batchId = await BatchCheck.SubmitAsync(host, BatchCheck.Questions(questions, "a storage restart"));
        var pump = new QueuePump(host, azurite.ConnectionString, ShortLeases());
        using var stop = new CancellationTokenSource();
        var running = pump.RunAsync(stop.Token);

        await Poll.UntilAsync(async () => await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId) >= 60, TimeSpan.FromSeconds(30), "60 answers");
        var restart = Stopwatch.StartNew();
        await azurite.RestartGracefullyAsync(TimeSpan.FromSeconds(3));
        var before = await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId);
        output.WriteLine($"{watch.Elapsed}: Azurite stopped mid-batch, down 3 s, back after {restart.Elapsed} with {before}/{questions} rows kept");
        Assert.True(before >= 60, $"the restart lost result rows: {before} left of at least 60 written before it");
        Assert.True(before < questions, $"the batch finished ({before} rows) before storage went down: not a mid-batch restart");

        var queue = new QueueClient(azurite.ConnectionString, StorageOptions.QueryQueue);
        try
        {
            await Poll.UntilAsync(async () => await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId) >= questions, TimeSpan.FromSeconds(30), "every question answered");
            // Messages whose delete failed during the outage come back after their lease and are completed without a second answer.
            await Poll.UntilAsync(async () => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, TimeSpan.FromSeconds(20), "queue drained");
        }
        catch (TimeoutException)
        {
            output.WriteLine($"rows {await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId)}, queue {(await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount}, " +
                $"processed {pump.Processed}, failed {pump.Failed}, storage errors {pump.StorageErrors}, poisoned {pump.Poisoned}");
            throw;
        }

        await stop.CancelAsync();
        await running;

        var rows = await BatchCheck.AssertNothingLostAsync(host, azurite.ConnectionString, batchId, questions);
        output.WriteLine($"rows {rows.Count}, processed {pump.Processed}, failed deliveries {pump.Failed}, storage errors {pump.StorageErrors}, " +
            $"answered on a redelivery {rows.Count(r => r.DequeueCount >= 2)}, duration {watch.Elapsed}");
        Assert.Equal(0, pump.Poisoned);
    }

    /// <summary>
    /// The storage lost writes it had acknowledged (what an Azurite SIGKILL does to its last ~5 s): for some messages both
    /// the result row and the message delete are gone, for others only the delete. The loss is made exact here, by
    /// completing messages without deleting them and then deleting some of their rows, so the outcome does not depend on
    /// when the emulator last saved. On redelivery a question whose row vanished is answered again, a question whose row
    /// survived is completed without a second answer: every question ends with exactly one row.
    /// </summary>
    [Fact]
    public async Task QuestionWhoseResultRowWasLostIsAnsweredAgainOnRedelivery()
    {
        const int questions = 20;
        const int lostDeletes = 6;
        const int lostRows = 3;
        var watch = Stopwatch.StartNew();
        await using var host = await InProcessFunctionHost.StartAsync(AppHostFixture.Settings(azurite));
        var batchId = await BatchCheck.SubmitAsync(host, BatchCheck.Questions(questions, "a lost write"));

        // An instance answers six messages (rows written) but its deletes never reach storage: the messages reappear.
        var queue = new QueueClient(azurite.ConnectionString, StorageOptions.QueryQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var received = new List<QueueMessage>();
        while (received.Count < lostDeletes)
        {
            received.AddRange((await queue.ReceiveMessagesAsync(lostDeletes - received.Count, TimeSpan.FromSeconds(2))).Value);
        }

        foreach (var message in received)
        {
            await host.InvokeQueueAsync(nameof(ProcessQueryMessage), message);
        }

        var answered = await BatchCheck.RowsAsync(azurite.ConnectionString, batchId);
        Assert.Equal(lostDeletes, answered.Count);

        // The storage also lost three of those rows.
        var results = new TableServiceClient(azurite.ConnectionString).GetTableClient("ragresults");
        var vanished = answered.OrderBy(r => r.Index).Take(lostRows).ToList();
        var kept = answered.OrderBy(r => r.Index).Skip(lostRows).ToDictionary(r => r.Index, r => r.CompletedAt);
        foreach (var row in vanished)
        {
            await results.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }

        var pump = new QueuePump(host, azurite.ConnectionString, ShortLeases());
        using var stop = new CancellationTokenSource();
        var running = pump.RunAsync(stop.Token);
        await Poll.UntilAsync(async () => await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId) >= questions, TimeSpan.FromSeconds(20), "every question answered");
        await Poll.UntilAsync(async () => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, TimeSpan.FromSeconds(20), "queue drained");
        await stop.CancelAsync();
        await running;

        var rows = (await BatchCheck.AssertNothingLostAsync(host, azurite.ConnectionString, batchId, questions)).ToDictionary(r => r.Index);
        output.WriteLine($"rows {rows.Count}, processed {pump.Processed}, rows lost {string.Join(',', vanished.Select(r => r.Index))}, " +
            $"answered again {string.Join(',', rows.Values.Where(r => r.DequeueCount == 2).Select(r => r.Index))}, duration {watch.Elapsed}");
        Assert.Equal(questions, pump.Processed);
        Assert.All(vanished, lost => Assert.Equal(2, rows[lost.Index].DequeueCount));
        Assert.All(kept, survived =>
        {
            Assert.Equal(1, rows[survived.Key].DequeueCount);
            Assert.Equal(survived.Value, rows[survived.Key].CompletedAt);
        });
        Assert.Equal(lostRows, rows.Values.Count(r => r.DequeueCount != 1));
        Assert.Equal(0, pump.Poisoned);
    }

    /// <summary>host.json's queue settings with short leases: the host leases a message for 10 minutes, 5 s bounds how long a message whose delete was lost stays hidden.</summary>
    private static QueueHostSettings ShortLeases() =>
        Prerequisites.HostQueueSettings with
        {
            VisibilityTimeout = TimeSpan.FromSeconds(1),
            MessageLease = TimeSpan.FromSeconds(5),
        };
}
