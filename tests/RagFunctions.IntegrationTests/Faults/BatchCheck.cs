using System.Text.Json;
using Azure.Data.Tables;
using RagFunctions.Core.Batches;
using RagFunctions.TestHost;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>
/// Ground truth for the batch path: a batch loses nothing when every question index has exactly one result row and the
/// status endpoint says done with every question counted.
/// </summary>
internal static class BatchCheck
{
    public static string[] Questions(int count, string topic) =>
        [.. Enumerable.Range(0, count).Select(i => $"Question {i}: what should I do about {topic}?")];

    public static async Task<string> SubmitAsync(InProcessFunctionHost host, IReadOnlyList<string> questions)
    {
        var response = await host.SendAsync("POST", "/api/batches", JsonSerializer.Serialize(new { questions }));
        Assert.True(response.Status == 202, $"submit answered {response.Status}: {response.Body}");
        return JsonDocument.Parse(response.Body).RootElement.GetProperty("batchId").GetString()!;
    }

    public static async Task<JsonElement> StatusAsync(InProcessFunctionHost host, string batchId)
    {
        var response = await host.SendAsync("GET", $"/api/batches/{batchId}?pageSize=1");
        Assert.True(response.Status == 200, $"status answered {response.Status}: {response.Body}");
        return JsonDocument.Parse(response.Body).RootElement.Clone();
    }

    public static async Task<List<ResultEntity>> RowsAsync(string connectionString, string batchId) =>
        await new TableServiceClient(connectionString).GetTableClient("ragresults")
            .QueryAsync<ResultEntity>(ResultEntity.FilterOf(batchId)).ToListAsync();

    public static async Task<int> RowCountAsync(string connectionString, string batchId)
    {
        try
        {
            return await new TableServiceClient(connectionString).GetTableClient("ragresults")
                .QueryAsync<TableEntity>(ResultEntity.FilterOf(batchId), select: ["RowKey"]).CountAsync();
        }
        catch (Azure.RequestFailedException)
        {
            return 0;
        }
    }

    /// <summary>Asserts one succeeded row per question index and a done status; returns the rows.</summary>
    public static async Task<List<ResultEntity>> AssertNothingLostAsync(InProcessFunctionHost host, string connectionString, string batchId, int count)
    {
        var rows = await RowsAsync(connectionString, batchId);
        Assert.Equal(count, rows.Count);
        Assert.Equal(Enumerable.Range(0, count), rows.Select(r => r.Index).Order());
        Assert.All(rows, r => Assert.True(r.Status == ResultStatus.Succeeded, $"question {r.Index} {r.Status}: {r.Error}"));
        var status = await StatusAsync(host, batchId);
        Assert.Equal("done", status.GetProperty("status").GetString());
        Assert.Equal(count, status.GetProperty("completed").GetInt32());
        Assert.Equal(count, status.GetProperty("succeeded").GetInt32());
        return rows;
    }
}
