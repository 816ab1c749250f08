using System.Diagnostics;
using System.Globalization;
using RagFunctions.Core.Batches;
using RagFunctions.IntegrationTests.Functions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>Simulated pods (real processes) answering a batch through the Bedrock stand-in are SIGKILLed mid-batch.</summary>
public sealed class PodKillTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Questions = 160;
    private const double LeaseSeconds = 3;
    private static readonly TimeSpan ModelLatency = TimeSpan.FromMilliseconds(600);

    // A pod holds at most batchSize + newBatchThreshold messages (host.json): it fetches 16 more once 8 or fewer remain.
    private const int InFlightPerPod = 16 + 8;

    [Fact]
    public async Task SigkilledPodsMessagesAreRedeliveredToOtherPodsAndEveryQuestionIsAnsweredOnceAndMeteredAsPushed()
    {
        var watch = Stopwatch.StartNew();
        await using var pushgateway = await PushgatewayServer.StartAsync();
        using var ledger = LedgerCheck.Start(pushgateway, azurite);
        // Model answers can be held back so that a kill is sure to land while the pod waits on the model.
        Task answersHeldUntil = Task.CompletedTask;
        await using var standIn = await BedrockStandIn.StartAsync(_ =>
            new CannedResponse(200, BedrockStandIn.ConverseJson(), Delay: ModelLatency, HeldUntil: Volatile.Read(ref answersHeldUntil)));

        // Holds the model's answers until the stand-in waits on more calls than one pod can make, so both pods are mid-call,
        // then SIGKILLs the pod and lets the answers go.
        async Task KillMidCallAsync(PodProcess pod)
        {
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref answersHeldUntil, release.Task);
            try
            {
                await Poll.UntilAsync(() => Task.FromResult(standIn.Pending > InFlightPerPod), TimeSpan.FromSeconds(30),
                    $"more than {InFlightPerPod} model calls waiting");
                pod.Kill();
            }
            finally
            {
                Volatile.Write(ref answersHeldUntil, Task.CompletedTask);
                release.SetResult();
            }
        }

        var settings = AppHostFixture.Settings(azurite);
        settings["Rag:MaxBatchQuestions"] = "1000";
        await using var api = await InProcessFunctionHost.StartAsync(settings);
        var batchId = await BatchCheck.SubmitAsync(api, BatchCheck.Questions(Questions, "a SIGKILLed pod"));

        var environment = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = BedrockStandIn.Credentials.AccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = BedrockStandIn.Credentials.SecretAccessKey,
            ["Rag__Environment"] = "faults",
            ["Rag__Push__IntervalSeconds"] = "1",
            // A killed pod's claims expire within the test's bounds, as its messages' leases do.
            ["Rag__Storage__ClaimLeaseSeconds"] = LeaseSeconds.ToString(CultureInfo.InvariantCulture),
        };
        var arguments = new Dictionary<string, string>
        {
            ["storage"] = azurite.ConnectionString,
            ["pushgateway"] = pushgateway.Url.ToString(),
            ["bedrock"] = standIn.BaseUri.ToString(),
            // The host leases a received message for 10 minutes; 3 s keeps redelivery after a crash inside the test's bounds.
            ["lease-seconds"] = LeaseSeconds.ToString(CultureInfo.InvariantCulture),
            ["visibility-seconds"] = "1",
        };
        using var podA = PodProcess.Start("pod-a", arguments, environment);
        using var podB = PodProcess.Start("pod-b", arguments, environment);
        var instances = new List<string> { await podA.WaitUntilReadyAsync(TimeSpan.FromSeconds(30)), await podB.WaitUntilReadyAsync(TimeSpan.FromSeconds(30)) };

        await Poll.UntilAsync(async () => await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId) >= 30, TimeSpan.FromSeconds(30), "30 answers");
        await KillMidCallAsync(podA);
        var atFirstKill = await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId);
        output.WriteLine($"{watch.Elapsed}: pod-a SIGKILLed with {atFirstKill}/{Questions} answered");
        using var podC = PodProcess.Start("pod-c", arguments, environment);
        instances.Add(await podC.WaitUntilReadyAsync(TimeSpan.FromSeconds(30)));

        await Poll.UntilAsync(async () => await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId) >= 90, TimeSpan.FromSeconds(30), "90 answers");
        await KillMidCallAsync(podB);
        output.WriteLine($"{watch.Elapsed}: pod-b SIGKILLed with {await BatchCheck.RowCountAsync(azurite.ConnectionString, batchId)}/{Questions} answered");

        await Poll.UntilAsync(async () => (await BatchCheck.StatusAsync(api, batchId)).GetProperty("status").GetString() == "done",
            TimeSpan.FromSeconds(60), "batch done on pod-c");
        await podC.StopAsync(TimeSpan.FromSeconds(15));
        output.WriteLine($"{watch.Elapsed}: batch done; pod-c stopped cleanly: {podC.Output.Split('\n').LastOrDefault(l => l.Contains("stopping", StringComparison.Ordinal))}");

        // Batch truth: one succeeded row per question, status done; some questions were redelivered after a crash.
        var rows = await BatchCheck.AssertNothingLostAsync(api, azurite.ConnectionString, batchId, Questions);
        var redelivered = rows.Count(r => r.DequeueCount >= 2);
        Assert.True(redelivered > 0, "no question was redelivered although each pod was killed while waiting on the model");

        // Metrics truth: the ledger equals the sum of what each pod pushed last (its group), and the three pods pushed.
        var (pushed, folded) = await LedgerCheck.WaitForConvergenceAsync(pushgateway, ledger, TimeSpan.FromSeconds(20));
        var groups = (await pushgateway.GroupsAsync()).Where(g => g.Labels["job"] == "rag-functions").Select(g => g.Labels["instance"]).Order().ToList();
        Assert.Equal(instances.Order(), groups);

        // Every model call the stand-in served was a success; a pod killed mid-call metered nothing it had not pushed.
        var served = standIn.Received.Count;
        var metered = LedgerCheck.Total(folded, "rag_requests_total", "trigger=\"queue\"", "outcome=\"success\"");
        var cost = LedgerCheck.Total(folded, "rag_cost_dollars_total");
        output.WriteLine($"questions {Questions}, rows {rows.Count}, redelivered {redelivered}, model calls served {served}, " +
            $"queue successes in the ledger {metered}, ledger cost {cost.ToString("R", CultureInfo.InvariantCulture)}, " +
            $"series compared {pushed.Count}, duration {watch.Elapsed}");
        Assert.InRange(metered, Questions - (2 * InFlightPerPod), served);
        Assert.InRange(served - metered, 0, 2 * InFlightPerPod);
        Assert.Equal(metered * 0.00000192, cost, 12);
        Assert.All(standIn.Received, r => Assert.True(r.SignatureValid, r.SignatureProblem));
        Assert.Equal(0, rows.Count(r => r.Status == ResultStatus.Failed));
    }
}
