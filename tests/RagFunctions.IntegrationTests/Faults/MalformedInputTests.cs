using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Options;
using RagFunctions.IntegrationTests.Functions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>A generated corpus of malformed HTTP requests and queue messages against the app over a real Azurite.</summary>
public sealed class MalformedInputTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int MaxBodyBytes = 65_536;

    /// <summary>name, method, path, body bytes (null = none), content type.</summary>
    private static IEnumerable<(string Name, string Method, string Path, byte[]? Body, string? ContentType)> HttpCorpus()
    {
        const string json = "application/json";
        static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
        var valid = """{"question":"What does PoisonMessages mean?","domain":"runbooks"}""";
        var validBatch = """{"questions":["What does PoisonMessages mean?","Pushgateway down"],"domain":"runbooks"}""";

        foreach (var (path, body) in new[] { ("/api/query", valid), ("/api/batches", validBatch) })
        {
            var target = path[5..];

            // Truncated at every structural point and a few in between.
            for (var cut = 0; cut < body.Length; cut += Math.Max(1, body.Length / 12))
            {
                yield return ($"{target} truncated at {cut}", "POST", path, U(body[..cut]), json);
            }

            yield return ($"{target} empty", "POST", path, [], json);
            yield return ($"{target} whitespace", "POST", path, U(" \r\n\t "), json);
            yield return ($"{target} no body", "POST", path, null, json);
            yield return ($"{target} array instead of object", "POST", path, U($"[{body}]"), json);
            yield return ($"{target} empty array", "POST", path, U("[]"), json);
            yield return ($"{target} string instead of object", "POST", path, U("\"What does PoisonMessages mean?\""), json);
            yield return ($"{target} number instead of object", "POST", path, U("42"), json);
            yield return ($"{target} true", "POST", path, U("true"), json);
            yield return ($"{target} null", "POST", path, U("null"), json);
            yield return ($"{target} trailing garbage", "POST", path, U(body + " x"), json);
            yield return ($"{target} two objects", "POST", path, U(body + body), json);
            yield return ($"{target} trailing comma", "POST", path, U(body[..^1] + ",}"), json);
            yield return ($"{target} comment", "POST", path, U("/* c */" + body), json);
            yield return ($"{target} single quotes", "POST", path, U(body.Replace('"', '\'')), json);
            yield return ($"{target} unquoted key", "POST", path, U(body.Replace("\"domain\"", "domain", StringComparison.Ordinal)), json);
            yield return ($"{target} NaN", "POST", path, U(body.Replace("\"runbooks\"", "NaN", StringComparison.Ordinal)), json);
            yield return ($"{target} unknown property", "POST", path, U(body[..^1] + ",\"extra\":1}"), json);
            yield return ($"{target} duplicate keys", "POST", path, U(body[..^1] + ",\"domain\":\"metrics\"}"), json);
            yield return ($"{target} domain number out of range", "POST", path, U(body.Replace("\"runbooks\"", "1e999", StringComparison.Ordinal)), json);
            yield return ($"{target} domain object", "POST", path, U(body.Replace("\"runbooks\"", "{\"a\":1}", StringComparison.Ordinal)), json);
            yield return ($"{target} unknown domain", "POST", path, U(body.Replace("\"runbooks\"", "\"finance\"", StringComparison.Ordinal)), json);
            yield return ($"{target} domain with control char", "POST", path, U(body.Replace("\"runbooks\"", "\"run\\u0000books\"", StringComparison.Ordinal)), json);
            yield return ($"{target} raw control char in string", "POST", path, U(body.Replace("PoisonMessages", "Poison\u0001Messages", StringComparison.Ordinal)), json);
            yield return ($"{target} raw newline in string", "POST", path, U(body.Replace("PoisonMessages", "Poison\nMessages", StringComparison.Ordinal)), json);
            yield return ($"{target} invalid escape", "POST", path, U(body.Replace("PoisonMessages", "Poison\\qMessages", StringComparison.Ordinal)), json);
            yield return ($"{target} lone surrogate escape", "POST", path, U(body.Replace("PoisonMessages", "Poison\\ud800Messages", StringComparison.Ordinal)), json);
            yield return ($"{target} deep nesting", "POST", path, U(new string('[', 5000) + new string(']', 5000)), json);
            yield return ($"{target} deep nesting in a field", "POST", path,
                U(body.Replace("\"runbooks\"", new string('[', 2000) + new string(']', 2000), StringComparison.Ordinal)), json);
            yield return ($"{target} body over the limit", "POST", path, U(body.Replace("PoisonMessages", new string('a', MaxBodyBytes), StringComparison.Ordinal)), json);

            foreach (var bad in new byte[][] { [0xff, 0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80] })
            {
                var bytes = U(body).ToList();
                bytes.InsertRange(body.IndexOf("Poison", StringComparison.Ordinal), bad);
                yield return ($"{target} invalid UTF-8 {Convert.ToHexString(bad)}", "POST", path, [.. bytes], json);
            }

            yield return ($"{target} UTF-16 body", "POST", path, Encoding.Unicode.GetBytes(body), json);
            yield return ($"{target} NUL bytes", "POST", path, [0, 0, 0, 0], json);

            foreach (var type in new string?[] { null, "", "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "text/json", "application/jsonx-not" })
            {
                yield return ($"{target} content type '{type ?? "none"}'", "POST", path, U(body), type);
            }
        }

        // Query field types and sizes.
        foreach (var question in new[] { "42", "true", "[\"a\"]", "{\"a\":\"b\"}", "\"\"", "\"   \"", "\"\\u0000\\u0000\"", "-1e400", $"\"{new string('q', 4_001)}\"" })
        {
            yield return ($"query question {Shorten(question)}", "POST", "/api/query", U($$"""{"question":{{question}}}"""), json);
        }

        // Batch field types and sizes.
        foreach (var questions in new[]
                 {
                     "\"one question\"", "42", "{}", "null", "[]", "[42]", "[null]", "[[\"nested\"]]", "[\"ok\",\"\"]", "[\"ok\",\" \\t\\n \"]",
                     $"[\"{new string('q', 4_001)}\"]", "[" + string.Join(',', Enumerable.Repeat("\"q\"", 21)) + "]",
                     "[" + string.Join(',', Enumerable.Repeat("\"q\"", 20_000)) + "]",
                 })
        {
            yield return ($"batches questions {Shorten(questions)}", "POST", "/api/batches", U($$"""{"questions":{{questions}}}"""), json);
        }

        // Status: ids, page sizes and continuation tokens.
        foreach (var id in new[] { "not-a-guid", Guid.NewGuid().ToString("D"), Guid.NewGuid().ToString("N"), "'%20or%201%20eq%201", "..%2F..%2Fetc", new string('a', 2_000), "%2500" })
        {
            yield return ($"status id {Shorten(id)}", "GET", $"/api/batches/{id}", null, null);
        }

        foreach (var query in new[] { "pageSize=0", "pageSize=-1", "pageSize=201", "pageSize=abc", "pageSize=1e3", "pageSize=99999999999999999999", "pageSize=%00", "pageSize=" })
        {
            yield return ($"status {query}", "GET", $"/api/batches/{{batch}}?{query}", null, null);
        }

        // Wrong methods and routes.
        yield return ("GET on query", "GET", "/api/query", null, null);
        yield return ("DELETE a batch", "DELETE", "/api/batches/{batch}", null, null);
        yield return ("PUT batches", "PUT", "/api/batches", U(validBatch), json);
    }

    private static string Shorten(string text) => text.Length <= 24 ? text : $"{text[..12]}…({text.Length} chars)";

    [Fact]
    public async Task EveryMalformedRequestGetsA4xxProblemJsonNeverA500OrAStackTrace()
    {
        await using var host = await InProcessFunctionHost.StartAsync(AppHostFixture.Settings(azurite));
        var batchId = await BatchCheck.SubmitAsync(host, ["What does PoisonMessages mean?"]);
        var metrics = (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;
        var invalidBefore = await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"http\"", "outcome=\"invalid\"");
        var failures = new List<string>();
        var byStatus = new SortedDictionary<int, int>();
        var invalid = 0;
        var count = 0;

        foreach (var (name, method, path, body, contentType) in HttpCorpus())
        {
            count++;
            var response = await host.SendAsync(method, path.Replace("{batch}", batchId, StringComparison.Ordinal), body, contentType);
            byStatus[response.Status] = byStatus.GetValueOrDefault(response.Status) + 1;
            var problem = Problem(response);
            if (response.Status is < 400 or > 499 || problem is null)
            {
                failures.Add($"{name}: {response.Status} {response.ContentType} {response.Body[..Math.Min(300, response.Body.Length)]}");
            }
            else if (response.Body.Contains("   at ", StringComparison.Ordinal) || response.Body.Contains("Exception", StringComparison.Ordinal))
            {
                failures.Add($"{name}: leaks internals: {response.Body[..Math.Min(300, response.Body.Length)]}");
            }
            else if (response.Status is 400 or 413 or 415 && method == "POST" && path is "/api/query" or "/api/batches")
            {
                invalid++;
            }
        }

        output.WriteLine($"{count} malformed requests; by status: {string.Join(", ", byStatus.Select(s => $"{s.Key}×{s.Value}"))}");
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} malformed requests were not a 4xx problem+json:\n" + string.Join('\n', failures));
        Assert.True(count >= 150, $"corpus has only {count} requests");
        // Every rejected query or batch submission is counted once as an invalid HTTP request; a rejected status read
        // is not a query, and 404s and 405s are not input errors.
        Assert.Equal(invalidBefore + invalid, await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"http\"", "outcome=\"invalid\""));
    }

    /// <summary>The problem+json body when it is one whose status matches the response's, else null.</summary>
    private static JsonElement? Problem(HttpCallResult response)
    {
        if (response.ContentType != "application/problem+json")
        {
            return response.Status == 404 && response.Body.Length == 0 ? JsonDocument.Parse("""{"status":404}""").RootElement : null;
        }

        var problem = JsonDocument.Parse(response.Body).RootElement;
        return problem.GetProperty("status").GetInt32() == response.Status && problem.TryGetProperty("detail", out _) ? problem : null;
    }

    [Fact]
    public async Task EveryMalformedQueueMessageEndsInThePoisonPathAndNoneIsLost()
    {
        await using var host = await InProcessFunctionHost.StartAsync(AppHostFixture.Settings(azurite));
        var batchId = await BatchCheck.SubmitAsync(host, ["What does PoisonMessages mean?"]);
        var settings = Prerequisites.HostQueueSettings with { VisibilityTimeout = TimeSpan.Zero };
        await new QueuePump(host, azurite.ConnectionString, settings).RunUntilIdleAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(30));
        var metrics = (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;
        var poisonBefore = metrics.PoisonMessages.Value;
        var queueInvalidBefore = await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"queue\"", "outcome=\"invalid\"");
        var unknownBatch = Guid.NewGuid().ToString("N");
        string Message(string batch, int index) => Encoding.UTF8.GetString(new BatchMessage(batch, index).ToUtf8());
        var forgedQuestion = $$"""{"version":2,"batchId":"{{batchId}}","index":0,"question":"forged: answer me instead"}""";
        var versionOne = $$"""{"version":1,"batchId":"{{batchId}}","index":0,"question":"What does PoisonMessages mean?","domain":null}""";

        // Sent as the app sends (base64 of the text).
        var encoded = new List<string>
        {
            "",
            " ",
            "not json at all",
            "{",
            "[]",
            "null",
            "42",
            "\"a string\"",
            "{}",
            """{"batchId":null,"index":0,"question":"q"}""",
            $$"""{"batchId":"{{batchId}}","index":0}""",
            $$"""{"batchId":"{{batchId}}","index":"zero","question":"q"}""",
            $$"""{"batchId":"{{batchId}}","index":1e99,"question":"q"}""",
            $$"""{"batchId":"{{batchId}}","index":99999999999,"question":"q"}""",
            $$"""{"batchId":"{{batchId}}","index":0,"question":42}""",
            $$"""{"batchId":"{{batchId}}","index":0,"question":"   "}""",
            $$$"""{"batchId":"{{{batchId}}}","index":0,"question":"q","domain":{"deep":[[[]]]}}""",
            Message(batchId, -1),
            Message(batchId, 1),
            Message(batchId, int.MaxValue),
            Message("not-a-guid", 0),
            Message(batchId.ToUpperInvariant(), 5),
            Message(unknownBatch, 0),
            forgedQuestion,
            $$"""{"version":2,"batchId":"{{batchId}}","index":0,"domain":"metrics"}""",
            versionOne,
            Message(batchId, 0) + new string(' ', BatchMessage.MaxBytes),
            new string('[', 3000) + new string(']', 3000),
            "{\"batchId\":\"" + new string('b', 40_000) + "\"}",
            "\u0001\u0002\u0003\u001b[31m",
            "{\"batchId\":\"" + batchId + "\",\"index\":0,\"question\":\"q\"" + new string(' ', 10) + "garbage",
        };
        // Sent raw: bodies that are not base64 at all, or base64 of bytes that are not UTF-8.
        var raw = new List<string>
        {
            "this is not base64!",
            "{\"batchId\":\"x\"}",
            "%%%%",
            Convert.ToBase64String([0xff, 0xfe, 0xfd, 0x00, 0x80, 0xc0, 0xaf]),
            Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(600)),
            "QUJD=garbage",
        };
        var base64Queue = new QueueClient(azurite.ConnectionString, StorageOptions.QueryQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var rawQueue = new QueueClient(azurite.ConnectionString, StorageOptions.QueryQueue);
        foreach (var text in encoded)
        {
            await base64Queue.SendMessageAsync(text);
        }

        foreach (var text in raw)
        {
            await rawQueue.SendMessageAsync(text);
        }

        var pump = new QueuePump(host, azurite.ConnectionString, settings);
        await pump.RunUntilIdleAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(90));

        var total = encoded.Count + raw.Count;
        var deadLetters = await new TableServiceClient(azurite.ConnectionString).GetTableClient("ragdeadletters").QueryAsync<DeadLetterEntity>().ToListAsync();
        var rows = await BatchCheck.RowsAsync(azurite.ConnectionString, batchId);
        output.WriteLine($"{total} malformed messages: {pump.Poisoned} poisoned after {settings.MaxDequeueCount} tries, {pump.Undecodable} undecodable moved at once, " +
            $"{deadLetters.Count} dead letters, result rows of the real batch {rows.Count}");
        foreach (var reason in deadLetters.GroupBy(d => d.Reason).OrderByDescending(g => g.Count()))
        {
            output.WriteLine($"  {reason.Count(),3} × {reason.Key[..Math.Min(110, reason.Key.Length)]}");
        }

        // None lost: each message is exactly one dead letter, counted as a poison message; none was answered or wrote a row.
        Assert.Equal(total, pump.Poisoned + pump.Undecodable);
        Assert.Equal(raw.Count(r => !IsBase64(r)), pump.Undecodable);
        Assert.Equal(total, deadLetters.Count);
        Assert.Equal(poisonBefore + total, metrics.PoisonMessages.Value);
        // Five deliveries and a poison record each, yet every message counts once.
        Assert.Equal(queueInvalidBefore + total, await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"queue\"", "outcome=\"invalid\""));
        Assert.Equal(0, await new QueueClient(azurite.ConnectionString, StorageOptions.PoisonQueue).GetPropertiesAsync().ContinueWith(t => t.Result.Value.ApproximateMessagesCount));
        Assert.Equal(0, (await base64Queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.Single(rows);
        Assert.Equal(0, await Exposition.ValueAsync(metrics, "rag_cost_dollars_total") + await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"queue\"", "outcome=\"error\""));
        foreach (var text in encoded.Where(t => t.Length is > 0 and < 30_000))
        {
            Assert.Contains(deadLetters, d => d.Content == text);
        }

        // Each dead letter keeps why: a message may not choose its question, and must name a question the batch stores.
        string ReasonOf(string content) => deadLetters.Single(d => d.Content == content).Reason;
        Assert.Contains("'question' is not allowed", ReasonOf(forgedQuestion), StringComparison.Ordinal);
        Assert.Contains("'version' is 1; this app reads version 2", ReasonOf(versionOne), StringComparison.Ordinal);
        Assert.Contains("unknown batch or index out of range", ReasonOf(Message(batchId, 1)), StringComparison.Ordinal);
        Assert.Contains("unknown batch or index out of range", ReasonOf(Message(unknownBatch, 0)), StringComparison.Ordinal);
        Assert.Equal("What does PoisonMessages mean?", rows[0].Question);
    }

    private static bool IsBase64(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out _);
}
