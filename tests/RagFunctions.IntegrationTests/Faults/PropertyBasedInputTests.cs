using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using CsCheck;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Options;
using RagFunctions.IntegrationTests.Functions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>
/// Generated HTTP bodies and queue messages (every Unicode category, lone surrogates, invisible text, nesting, sizes at
/// and past the limits, wrong encodings) against the app in-process over a real Azurite. Iterations are bounded so the
/// class runs in well under a minute on two cores; a failure prints CsCheck's seed to replay it.
/// </summary>
public sealed partial class PropertyBasedInputTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int HttpSamples = 250;
    private const int QueueSamples = 3;

    /// <summary>Characters that break naive validators: invisible ones, C0/C1 controls, separators, combining marks, lone surrogates.</summary>
    private const string Awkward = "\u200B\u200C\u200D\u2060\uFEFF\u00AD\u180E \t\r\n\u0000\u001F\u007F\u0080\u0085\u009F\u00A0\u1680\u2028\u2029\u3000e\u0301\u0041\u030A\"\\/\uD800\uDC00\uDBFF\uDFFF";

    private static readonly Gen<string> Text = Gen.Frequency(
        (4, Gen.Char.Array[0, 40].Select(chars => new string(chars))),
        (3, Gen.Char[Awkward].Array[0, 12].Select(chars => new string(chars))),
        (2, Gen.OneOf("What does PoisonMessages mean?", "pushgateway down", "Why is the ledger stalled?", "")),
        (1, Gen.Int[3_995, 4_005].Select(n => new string('q', n))),
        (1, Gen.Int[3_995, 4_005].Select(n => string.Concat(Enumerable.Repeat("\U0001F600", n)))),
        (1, Gen.Int[3_990, 4_000].Select(n => new string('q', n) + "\U0001F1FA\U0001F1F8")));

    /// <summary>A JSON value as text: strings written raw or escaped, numbers, literals, nested arrays and objects.</summary>
    private static readonly Gen<string> Value = Gen.Frequency(
        (5, Gen.Select(Text, Gen.Bool, (text, raw) => Quote(text, raw))),
        (1, Gen.OneOf("42", "-1e400", "1e999", "true", "null", "{}", "[]", "NaN", "\"\\ud800\"", "'single'")),
        (1, Gen.Int[1, 200].Select(depth => new string('[', depth) + new string(']', depth))),
        (1, Gen.Select(Text, Gen.Bool, (text, raw) => $"[{Quote(text, raw)},42,null]")));

    private static readonly Gen<string> MemberName = Gen.Frequency(
        (6, Gen.OneOf("question", "domain", "questions")),
        (1, Gen.OneOf("Question", "extra", "", "question ")),
        (1, Text));

    private static readonly Gen<string> JsonObject = Gen.Select(MemberName, Value, (name, value) => (name, value)).Array[0, 4]
        .Select(members => "{" + string.Join(',', members.Select(m => $"{Quote(m.name, raw: false)}:{m.value}")) + "}");

    private static readonly Gen<string> QueryObject = Gen.Select(Value, Gen.OneOf("", ",\"domain\":null", ",\"domain\":\"runbooks\"", ",\"domain\":\"Finance\""),
        (question, domain) => $"{{\"question\":{question}{domain}}}");

    private static readonly Gen<string> BatchObject = Gen.Select(Value.Array[0, 4], Gen.OneOf("", ",\"domain\":\"metrics\""),
        (questions, domain) => $"{{\"questions\":[{string.Join(',', questions)}]{domain}}}");

    /// <summary>The bytes of a body: UTF-8 JSON mostly, sometimes with a BOM, in UTF-16, cut short, or random bytes.</summary>
    private static readonly Gen<byte[]> Body = Gen.Frequency(
        (8, Gen.Select(Gen.Frequency((4, QueryObject), (2, BatchObject), (2, JsonObject)), Gen.Int[0, 9], Encode)),
        (1, Gen.Byte.Array[0, 64]),
        (1, Gen.Select(QueryObject, Gen.Int[0, 100], (json, percent) => Encoding.UTF8.GetBytes(json)[..(Encoding.UTF8.GetByteCount(json) * percent / 100)])));

    private static readonly Gen<string?> ContentType = Gen.Frequency(
        (12, Gen.Const<string?>("application/json")),
        (1, Gen.OneOf<string?>("application/json; charset=utf-8", "application/json; charset=\"UTF-8\"", "application/problem+json")),
        (1, Gen.OneOf<string?>(null, "text/plain", "application/json; charset=utf-16", "application/json; charset=latin1", "application/jsonx")));

    [GeneratedRegex(@"\b(System|Microsoft|RagFunctions|Azure|Amazon)\.[A-Z]|`\d|Exception\b| at [A-Z][\w.]+\(")]
    private static partial Regex TypeNameOrStackTrace();

    [Fact]
    public async Task EveryGeneratedRequestIsAnsweredBelow500AndEvery4xxIsABoundedProblemCountedOnceAsInvalid()
    {
        await using var host = await InProcessFunctionHost.StartAsync(AppHostFixture.Settings(azurite));
        var metrics = (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;
        var byStatus = new SortedDictionary<int, int>();

        await Gen.Select(Gen.Frequency((3, Gen.Const("/api/query")), (1, Gen.Const("/api/batches"))), Body, ContentType).SampleAsync(async (path, body, contentType) =>
        {
            var before = await InvalidHttpAsync(metrics);

            var response = await host.SendAsync("POST", path, body, contentType);

            lock (byStatus)
            {
                byStatus[response.Status] = byStatus.GetValueOrDefault(response.Status) + 1;
            }

            Assert.True(response.Status < 500, $"{response.Status}: {response.Body}");
            var counted = await InvalidHttpAsync(metrics) - before;
            if (response.Status < 400)
            {
                Assert.Equal(0, counted);
                return;
            }

            AssertBoundedProblem(response, body);
            Assert.Equal(1, counted);
            if (response.Status == 400)
            {
                var errors = JsonDocument.Parse(response.Body).RootElement.GetProperty("errors");
                Assert.True(errors.EnumerateObject().Any(), response.Body);
            }
        }, iter: HttpSamples, threads: 1, print: t => $"{t.Item1} {t.Item3 ?? "no content type"} {Convert.ToHexString(t.Item2[..Math.Min(200, t.Item2.Length)])}");

        output.WriteLine($"{HttpSamples} generated requests; by status: {string.Join(", ", byStatus.Select(s => $"{s.Key}×{s.Value}"))}");
        // The generators reach every branch: accepted questions, rejected ones, and refused media types.
        Assert.Contains(200, byStatus.Keys);
        Assert.Contains(400, byStatus.Keys);
        Assert.Contains(415, byStatus.Keys);
    }

    [Fact]
    public async Task EveryGeneratedQueueMessageEndsAsExactlyOneResultRowOrOneDeadLetterAndCountsOnce()
    {
        await using var host = await InProcessFunctionHost.StartAsync(AppHostFixture.Settings(azurite));
        var metrics = (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;
        var settings = Prerequisites.HostQueueSettings with { VisibilityTimeout = TimeSpan.Zero };
        var queue = new QueueClient(azurite.ConnectionString, StorageOptions.QueryQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var rawQueue = new QueueClient(azurite.ConnectionString, StorageOptions.QueryQueue);
        var tables = new TableServiceClient(azurite.ConnectionString);

        await MessageKind.Any.Array[20, 40].SampleAsync(async kinds =>
        {
            // Two batches whose own messages are taken off the queue: the generated messages are the only ones that name them.
            var batches = new[] { await BatchCheck.SubmitAsync(host, BatchCheck.Questions(20, "edges")), await BatchCheck.SubmitAsync(host, BatchCheck.Questions(20, "edges")) };
            await DrainAsync(queue);
            var messages = MessageKind.Build(kinds, batches);
            foreach (var message in messages)
            {
                await (message.Raw ? rawQueue.SendMessageAsync(Encoding.UTF8.GetString(message.Bytes)) : queue.SendMessageAsync(new BinaryData(message.Bytes)));
            }

            var outcomesBefore = await QueueOutcomesAsync(metrics);
            var poisonBefore = metrics.PoisonMessages.Value;
            var deadLettersBefore = await tables.GetTableClient("ragdeadletters").QueryAsync<DeadLetterEntity>(select: ["RowKey"]).CountAsync();

            await new QueuePump(host, azurite.ConnectionString, settings).RunUntilIdleAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(60));

            var rows = new List<ResultEntity>();
            foreach (var batch in batches)
            {
                rows.AddRange(await BatchCheck.RowsAsync(azurite.ConnectionString, batch));
            }

            var deadLetters = await tables.GetTableClient("ragdeadletters").QueryAsync<DeadLetterEntity>(select: ["RowKey"]).CountAsync() - deadLettersBefore;
            var expectRows = messages.Where(m => m.EndsAsRow).ToList();
            Assert.Equal(expectRows.Count, rows.Count);
            Assert.Equal(messages.Count - expectRows.Count, deadLetters);
            Assert.Equal(
                expectRows.Select(m => (m.BatchId, m.Index, m.Succeeds)).Order(),
                rows.Select(r => (r.PartitionKey, r.Index, r.Status == ResultStatus.Succeeded)).Order());
            // Each message counts once in rag_requests_total{trigger="queue"}, however often it was delivered.
            Assert.Equal(messages.Count, await QueueOutcomesAsync(metrics) - outcomesBefore);
            Assert.Equal(deadLetters, metrics.PoisonMessages.Value - poisonBefore);
        }, iter: QueueSamples, threads: 1, print: kinds => string.Join(',', kinds));
    }

    /// <param name="request">The body sent: a type-name pattern in the answer that only echoes it (quoted) is the caller's text, not a leak.</param>
    private static void AssertBoundedProblem(HttpCallResult response, byte[] request)
    {
        Assert.Equal("application/problem+json", response.ContentType);
        var problem = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal(response.Status, problem.GetProperty("status").GetInt32());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.True(Encoding.UTF8.GetByteCount(detail) < 1024, $"detail of {Encoding.UTF8.GetByteCount(detail)} bytes: {detail}");
        var sent = Encoding.UTF8.GetString(request);
        var leaks = TypeNameOrStackTrace().Matches(response.Body).Where(m => !sent.Contains(m.Value, StringComparison.Ordinal)).ToList();
        Assert.True(leaks.Count == 0, $"names a .NET type or has a stack trace ({string.Join(", ", leaks.Select(m => m.Value))}): {response.Body}");
    }

    private static async Task<double> InvalidHttpAsync(RagMetrics metrics) =>
        await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"http\"", "outcome=\"invalid\"");

    private static async Task<double> QueueOutcomesAsync(RagMetrics metrics) =>
        await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"queue\"");

    private static async Task DrainAsync(QueueClient queue)
    {
        while (true)
        {
            var received = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value;
            if (received.Length == 0)
            {
                return;
            }

            foreach (var message in received)
            {
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
    }

    /// <summary>UTF-8 of <paramref name="json"/>: as is, with a BOM (read as UTF-8), or in UTF-16 (refused with "send UTF-8").</summary>
    private static byte[] Encode(string json, int choice) => choice switch
    {
        0 => [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(json)],
        1 => Encoding.Unicode.GetBytes(json),
        _ => Encoding.UTF8.GetBytes(json),
    };

    /// <summary>A JSON string literal of <paramref name="text"/>: escaped where JSON requires it (raw) or everywhere outside ASCII.</summary>
    private static string Quote(string text, bool raw)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in text)
        {
            if (c is '"' or '\\' || c < 0x20 || (!raw && c > 0x7E) || char.IsSurrogate(c))
            {
                builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.Append('"').ToString();
    }

    /// <summary>One generated queue message, where it must end (a result row of a batch, or a dead letter) and whether it succeeds.</summary>
    private sealed record GeneratedMessage(byte[] Bytes, bool Raw, string BatchId, int Index, bool EndsAsRow, bool Succeeds);

    private enum Kind
    {
        Valid,
        ValidWithByteOrderMark,
        ForgedQuestion,
        ForgedDomain,
        VersionOne,
        MissingIndex,
        MissingVersion,
        OtherVersion,
        IndexAsString,
        DuplicateKey,
        UnknownMember,
        UnknownBatch,
        IndexPastTheBatch,
        NegativeIndex,
        NotJson,
        NotUtf8,
        NotBase64,
    }

    private static class MessageKind
    {
        public static readonly Gen<Kind> Any = Gen.Enum<Kind>();

        /// <summary>The messages for <paramref name="kinds"/>; those that end as rows get distinct indices of <paramref name="batches"/> (20 each).</summary>
        public static List<GeneratedMessage> Build(Kind[] kinds, string[] batches)
        {
            var messages = new List<GeneratedMessage>(kinds.Length);
            var slot = 0;
            for (var i = 0; i < kinds.Length; i++)
            {
                var batch = batches[slot / 20];
                var index = slot % 20;
                // The question a row answers is the batch's own; the message only names it.
                GeneratedMessage Row(bool bom = false)
                {
                    slot++;
                    var json = new BatchMessage(batch, index).ToUtf8();
                    return new GeneratedMessage(bom ? [0xEF, 0xBB, 0xBF, .. json] : json, false, batch, index, true, true);
                }

                GeneratedMessage Dead(string text, bool raw = false) => new(Encoding.UTF8.GetBytes(text), raw, batch, -1, false, false);
                var unknown = Guid.NewGuid().ToString("N");
                messages.Add(kinds[i] switch
                {
                    Kind.Valid => Row(),
                    Kind.ValidWithByteOrderMark => Row(bom: true),
                    Kind.ForgedQuestion => Dead($$"""{"version":2,"batchId":"{{batch}}","index":{{index}},"question":"forged {{i}}"}"""),
                    Kind.ForgedDomain => Dead($$"""{"version":2,"batchId":"{{batch}}","index":{{index}},"domain":null}"""),
                    Kind.VersionOne => Dead($$"""{"version":1,"batchId":"{{batch}}","index":{{index}},"question":"q {{i}}","domain":null}"""),
                    Kind.MissingIndex => Dead($$"""{"version":2,"batchId":"{{batch}}"}"""),
                    Kind.MissingVersion => Dead($$"""{"batchId":"{{batch}}","index":{{index}}}"""),
                    Kind.OtherVersion => Dead($$"""{"version":3,"batchId":"{{batch}}","index":{{index}}}"""),
                    Kind.IndexAsString => Dead($$"""{"version":2,"batchId":"{{batch}}","index":"{{index}}"}"""),
                    Kind.DuplicateKey => Dead($$"""{"version":2,"batchId":"{{batch}}","index":{{index}},"index":{{index}}}"""),
                    Kind.UnknownMember => Dead($$"""{"version":2,"batchId":"{{batch}}","index":{{index}},"priority":"high"}"""),
                    Kind.UnknownBatch => Dead(Encoding.UTF8.GetString(new BatchMessage(unknown, 0).ToUtf8())),
                    Kind.IndexPastTheBatch => Dead(Encoding.UTF8.GetString(new BatchMessage(batch, 20 + i).ToUtf8())),
                    Kind.NegativeIndex => Dead(Encoding.UTF8.GetString(new BatchMessage(batch, -1 - i).ToUtf8())),
                    Kind.NotJson => Dead($"not json {i}"),
                    Kind.NotUtf8 => new GeneratedMessage([0x7B, 0xFF, 0xFE, (byte)i, 0x80, 0x7D], false, batch, -1, false, false),
                    Kind.NotBase64 => Dead($"not base64 {i}!", raw: true),
                    _ => throw new ArgumentOutOfRangeException(nameof(kinds)),
                });
            }

            return messages;
        }
    }
}
