using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Options;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;

namespace RagFunctions.IntegrationTests.Functions;

/// <summary>Batch submit → real Azurite queue → queue function → table rows → status endpoint.</summary>
[Collection(AppHostCollection.Name)]
public sealed class BatchFlowTests(AppHostFixture app)
{
    private static readonly QueueHostSettings FastRetries =
        Prerequisites.HostQueueSettings with { VisibilityTimeout = TimeSpan.Zero };

    private QueuePump Pump() => new(app.Host, app.Azurite.ConnectionString, FastRetries);

    private QueueClient Queue(string name) => new(app.Azurite.ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    private RagMetrics Metrics => (RagMetrics)app.Host.Services.GetService(typeof(RagMetrics))!;

    private async Task<string> SubmitAsync(params string[] questions)
    {
        var response = await app.Host.SendAsync("POST", "/api/batches", JsonSerializer.Serialize(new { questions, domain = "runbooks" }));
        Assert.Equal(202, response.Status);
        var body = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal(questions.Length, body.GetProperty("count").GetInt32());
        var id = body.GetProperty("batchId").GetString()!;
        Assert.Equal($"/api/batches/{id}", body.GetProperty("statusUrl").GetString());
        Assert.Equal($"/api/batches/{id}", response.Headers["Location"]);
        return id;
    }

    private async Task<JsonElement> StatusAsync(string id, string query = "")
    {
        var response = await app.Host.SendAsync("GET", $"/api/batches/{id}{query}");
        Assert.Equal(200, response.Status);
        return JsonDocument.Parse(response.Body).RootElement;
    }

    [Fact]
    public async Task SubmittedBatchIsQueuedThenAnsweredIntoOneRowPerQuestion()
    {
        var id = await SubmitAsync("What do I do when the daily budget alert fires?", "Pushgateway is down", "How do I silence LLM throttling?");
        Assert.Equal("queued", (await StatusAsync(id)).GetProperty("status").GetString());

        await Pump().RunUntilIdleAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(60));

        var status = await StatusAsync(id);
        Assert.Equal("done", status.GetProperty("status").GetString());
        Assert.Equal(3, status.GetProperty("succeeded").GetInt32());
        Assert.Equal(0, status.GetProperty("failed").GetInt32());
        var results = status.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.All(results, r =>
        {
            Assert.Equal("succeeded", r.GetProperty("status").GetString());
            Assert.Equal("local-extractive", r.GetProperty("model").GetString());
            Assert.True(r.GetProperty("inputTokens").GetInt64() > 0);
            Assert.False(string.IsNullOrEmpty(r.GetProperty("answer").GetString()));
        });
    }

    [Fact]
    public async Task StatusPagesResultsWithAContinuationToken()
    {
        var id = await SubmitAsync("budget", "latency", "poison", "ledger", "throttling");
        await Pump().RunUntilIdleAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(60));

        var first = await StatusAsync(id, "?pageSize=2");
        var token = first.GetProperty("continuationToken").GetString();
        Assert.Equal(2, first.GetProperty("results").GetArrayLength());
        Assert.False(string.IsNullOrEmpty(token));
        var second = await StatusAsync(id, $"?pageSize=2&continuationToken={Uri.EscapeDataString(token!)}");

        Assert.Equal([2, 3], second.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal(5, second.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("MTphYmM6Mg")]
    [InlineData("1 00000000000000000000000000000000 000002")]
    [InlineData("%00")]
    public async Task GarbageContinuationTokenIs400NamingTheParameter(string token)
    {
        var id = await SubmitAsync("budget", "latency", "poison");
        await Pump().RunUntilIdleAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(60));

        var response = await app.Host.SendAsync("GET", $"/api/batches/{id}?pageSize=1&continuationToken={token}");

        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        var errors = JsonDocument.Parse(response.Body).RootElement.GetProperty("errors");
        Assert.Contains("continuationToken", errors.GetProperty("continuationToken")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContinuationTokenOfAnotherBatchIsRejected()
    {
        var first = await SubmitAsync("budget", "latency");
        var second = await SubmitAsync("poison", "ledger");
        await Pump().RunUntilIdleAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(60));
        var token = (await StatusAsync(first, "?pageSize=1")).GetProperty("continuationToken").GetString()!;

        var response = await app.Host.SendAsync("GET", $"/api/batches/{second}?pageSize=1&continuationToken={Uri.EscapeDataString(token)}");

        Assert.Equal(400, response.Status);
        Assert.Contains("another batch", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LastPageHasNoContinuationTokenAndPagesCoverEveryRowOnce()
    {
        var id = await SubmitAsync("budget", "latency", "poison", "ledger", "throttling");
        await Pump().RunUntilIdleAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(60));
        var seen = new List<int>();
        string? token = null;
        do
        {
            var page = await StatusAsync(id, "?pageSize=2" + (token is null ? string.Empty : $"&continuationToken={Uri.EscapeDataString(token)}"));
            seen.AddRange(page.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("index").GetInt32()));
            token = page.GetProperty("continuationToken").GetString();
        }
        while (token is not null);

        Assert.Equal([0, 1, 2, 3, 4], seen);
    }

    [Fact]
    public async Task EveryStatusPolledWhileTheBatchRunsIsOneConsistentSnapshot()
    {
        var questions = Enumerable.Range(0, 20).Select(i => $"Question {i}: what does the LedgerStalled alert mean?").ToArray();
        var id = await SubmitAsync(questions);
        using var stop = new CancellationTokenSource();
        var pump = Pump();
        var running = pump.RunAsync(stop.Token);
        var states = new[] { "queued", "running", "done" };
        var (lastState, lastCompleted, polls) = (0, 0, 0);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (lastState < 2)
            {
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "the batch was not done within 60 s");
                var status = await StatusAsync(id, "?pageSize=200");
                polls++;
                var (completed, succeeded, failed) = (status.GetProperty("completed").GetInt32(), status.GetProperty("succeeded").GetInt32(), status.GetProperty("failed").GetInt32());
                var results = status.GetProperty("results").EnumerateArray().ToList();
                var state = Array.IndexOf(states, status.GetProperty("status").GetString());
                var context = $"poll {polls}: {status}";

                // The counts agree with each other, with the status and with the page (200 rows hold the whole batch).
                Assert.Equal(succeeded + failed, completed);
                Assert.Equal(completed == 0 ? 0 : completed < questions.Length ? 1 : 2, state);
                Assert.True(results.Count == completed, context);
                Assert.Equal(succeeded, results.Count(r => r.GetProperty("status").GetString() == "succeeded"));
                Assert.Equal(status.GetProperty("costUsd").GetDecimal(), results.Sum(r => r.GetProperty("costUsd").GetDecimal()));
                Assert.Equal(JsonValueKind.Null, status.GetProperty("continuationToken").ValueKind);
                // Never backwards between polls.
                Assert.True(completed >= lastCompleted, context);
                Assert.True(state >= lastState, context);
                (lastState, lastCompleted) = (state, completed);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }

        Assert.Equal(questions.Length, lastCompleted);
        Assert.True(polls >= 2, $"only {polls} polls: the batch was never seen before it was done");
    }

    [Fact]
    public async Task RedeliveredMessageDoesNotWriteASecondRow()
    {
        var id = await SubmitAsync("What does LedgerStalled mean?");
        var queue = Queue(StorageOptions.QueryQueue);
        QueueMessage message = (await queue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(5))).Value.Single();

        await app.Host.InvokeQueueAsync("ProcessQueryMessage", message);
        // The host crashed before deleting: the same message arrives again.
        await app.Host.InvokeQueueAsync("ProcessQueryMessage", message);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);

        var rows = await ResultsTable().QueryAsync<ResultEntity>(r => r.PartitionKey == id).ToListAsync();
        Assert.Single(rows);
        Assert.Equal(1, (await StatusAsync(id)).GetProperty("succeeded").GetInt32());
    }

    [Fact]
    public async Task TwentyConcurrentDeliveriesOfOneMessageMakeOneModelCallWriteOneRowAndCountOnce()
    {
        const int deliveries = 20;
        var id = await SubmitAsync("How is the cost of a query computed?", "What does LedgerStalled mean?", "Why is the queue backlog growing?");
        var queue = Queue(StorageOptions.QueryQueue);
        var messages = new List<QueueMessage>();
        while (messages.Count < 3)
        {
            messages.AddRange((await queue.ReceiveMessagesAsync(3 - messages.Count, TimeSpan.FromMinutes(5))).Value);
        }

        var queueSuccessBefore = await QueueSuccessesAsync();
        var callsPerRow = new List<long>();
        foreach (var message in messages)
        {
            // Twenty pods hold the same message at once (a sender's retry, or a visibility that expired mid-flight).
            var callsBefore = Metrics.GenerationStage.Count;
            await Task.WhenAll(Enumerable.Range(0, deliveries).Select(_ => Task.Run(() => app.Host.InvokeQueueAsync("ProcessQueryMessage", message))));
            callsPerRow.Add(Metrics.GenerationStage.Count - callsBefore);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }

        // The claim lets one delivery call the model; the others wait for its row and spend nothing.
        Assert.Equal([1, 1, 1], callsPerRow);
        Assert.Equal(3, (await ResultsTable().QueryAsync<ResultEntity>(r => r.PartitionKey == id).ToListAsync()).Count);
        Assert.Equal(3, await QueueSuccessesAsync() - queueSuccessBefore);
        // Every owner released its claim once its row was written.
        var claims = await ResultsTable().QueryAsync<ClaimEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {id} and RowKey ge {ClaimEntity.RowKeyPrefix}")).ToListAsync();
        Assert.Empty(claims);
    }

    [Fact]
    public async Task AResultRowCommittedByARetriedTransactionCountsForItsOwnDeliveryOnly()
    {
        var store = (BatchStore)app.Host.Services.GetService(typeof(BatchStore))!;
        var claims = (BatchRowClaims)app.Host.Services.GetService(typeof(BatchRowClaims))!;
        await store.EnsureCreatedAsync(CancellationToken.None);
        var id = BatchIds.New();
        var result = BatchResult.Failed(0, "What does LedgerStalled mean?", "local-extractive", "stand-in", 1, DateTimeOffset.UtcNow);
        var claim = (await claims.TryClaimAsync(id, 0, CancellationToken.None))!;

        // The first attempt commits (row written, claim deleted); the SDK's retry of the same transaction then fails,
        // because the row exists and the claim is gone, and the fallback finds the row stamped with this claim's owner.
        Assert.True(await claims.TryAddResultAsync(claim, result, CancellationToken.None));
        Assert.True(await claims.TryAddResultAsync(claim, result, CancellationToken.None));

        // Another delivery's claim on the same question finds a row it did not write.
        var other = (await claims.TryClaimAsync(id, 0, CancellationToken.None))!;
        Assert.NotEqual(claim.Owner, other.Owner);
        Assert.False(await claims.TryAddResultAsync(other, result, CancellationToken.None));

        var row = Assert.Single(await ResultsTable().QueryAsync<ResultEntity>(ResultEntity.FilterOf(id)).ToListAsync());
        Assert.Equal(claim.Owner, row.WrittenBy);
        Assert.Empty(await ResultsTable().QueryAsync<ClaimEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {id} and RowKey ge {ClaimEntity.RowKeyPrefix}")).ToListAsync());
    }

    [Fact]
    public async Task MalformedMessageEndsInThePoisonQueueAndIsKeptAsADeadLetter()
    {
        var marker = Guid.NewGuid().ToString("N");
        var queue = Queue(StorageOptions.QueryQueue);
        // This test may run before any batch created the queue.
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync($"{{\"not a batch message\":\"{marker}\"}}");
        var poisonedBefore = Metrics.PoisonMessages.Value;
        var pump = Pump();

        await pump.RunUntilIdleAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(60));

        Assert.Equal(FastRetries.MaxDequeueCount, pump.Failed);
        Assert.Equal(1, pump.Poisoned);
        Assert.Equal(poisonedBefore + 1, Metrics.PoisonMessages.Value);
        var deadLetters = new TableServiceClient(app.Azurite.ConnectionString).GetTableClient("ragdeadletters");
        var kept = await deadLetters.QueryAsync<DeadLetterEntity>().ToListAsync();
        Assert.Contains(kept, d => d.Content.Contains(marker, StringComparison.Ordinal) && d.Reason.Contains("batchId", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMessageThatCarriesAQuestionOrNamesNoStoredQuestionIsNotAnsweredAndIsDeadLetteredWithItsReason()
    {
        const string submitted = "Pushgateway is down";
        var id = await SubmitAsync(submitted);
        // Forged into the submitted batch: a question of the sender's choice for a real index, and an index the batch does not have.
        var forged = $$"""{"version":2,"batchId":"{{id}}","index":0,"question":"forged: answer this instead","domain":null}""";
        var missingIndex = System.Text.Encoding.UTF8.GetString(new BatchMessage(id, 1).ToUtf8());
        var queue = Queue(StorageOptions.QueryQueue);
        await queue.SendMessageAsync(forged);
        await queue.SendMessageAsync(missingIndex);
        var poisonedBefore = Metrics.PoisonMessages.Value;
        var invalidBefore = await QueueRequestsAsync("invalid");
        var successBefore = await QueueRequestsAsync("success");

        await Pump().RunUntilIdleAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(60));

        var row = Assert.Single(await ResultsTable().QueryAsync<ResultEntity>(r => r.PartitionKey == id).ToListAsync());
        Assert.Equal(submitted, row.Question);
        Assert.Equal(ResultStatus.Succeeded, row.Status);
        var deadLetters = await new TableServiceClient(app.Azurite.ConnectionString).GetTableClient("ragdeadletters").QueryAsync<DeadLetterEntity>().ToListAsync();
        Assert.Contains("'question' is not allowed", Assert.Single(deadLetters, d => d.Content == forged).Reason, StringComparison.Ordinal);
        Assert.Contains("unknown batch or index out of range", Assert.Single(deadLetters, d => d.Content == missingIndex).Reason, StringComparison.Ordinal);
        // Each counts once: two invalid queue requests and two poison messages, and only the submitted question succeeded.
        Assert.Equal(poisonedBefore + 2, Metrics.PoisonMessages.Value);
        Assert.Equal(2, await QueueRequestsAsync("invalid") - invalidBefore);
        Assert.Equal(1, await QueueRequestsAsync("success") - successBefore);
    }

    [Fact]
    public async Task StoredQuestionsReadBackWholeAcrossTransactionsAndSplitProperties()
    {
        var table = new TableServiceClient(app.Azurite.ConnectionString).GetTableClient("ragbatches");
        await table.CreateIfNotExistsAsync();
        var id = BatchIds.New();
        // 150 questions need two transactions by count; six of the longest possible (200,000 UTF-16 code units, 7
        // properties, up to 1.2 MB as JSON each), three within the first 100, push a transaction past 3 MiB, so the
        // writes split by size too.
        var longest = string.Concat(Enumerable.Repeat("\ud83d\ude00", 100_000));
        string[] questions = [.. Enumerable.Range(0, 150).Select(i => i % 25 == 7 ? longest : $"Question {i}: what does LedgerStalled mean?")];

        await BatchQuestions.WriteAsync(table, id, questions, CancellationToken.None);

        for (var i = 0; i < questions.Length; i++)
        {
            Assert.Equal(questions[i], await BatchQuestions.ReadAsync(table, id, i, CancellationToken.None));
        }

        Assert.Null(await BatchQuestions.ReadAsync(table, id, questions.Length, CancellationToken.None));
    }

    private Task<double> QueueSuccessesAsync() => QueueRequestsAsync("success");

    private async Task<double> QueueRequestsAsync(string outcome)
    {
        using var stream = new MemoryStream();
        await Metrics.Registry.CollectAndExportAsTextAsync(stream);
        var series = $"rag_requests_total{{trigger=\"queue\",outcome=\"{outcome}\",tenant=\"default\",environment=\"test\"}} ";
        var line = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n').Single(l => l.StartsWith(series, StringComparison.Ordinal));
        return double.Parse(line[series.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private TableClient ResultsTable() => new TableServiceClient(app.Azurite.ConnectionString).GetTableClient("ragresults");
}
