using System.Text.Json;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Functions;

/// <summary>
/// Core Tools cannot be installed here, so `func start` cannot run; this proves what it needs is in the build output:
/// host.json, worker.config.json, extensions.json and a functions.metadata describing every function's trigger.
/// </summary>
public sealed class BuildOutputTests
{
    private static string Output => AppBuildOutput.Folder;

    private static JsonElement Function(string name) => AppBuildOutput.Functions().Single(f => AppBuildOutput.Name(f) == name);

    private static JsonElement Trigger(JsonElement function) => AppBuildOutput.Trigger(function);

    [Fact]
    public void OutputHoldsTheRootHostJsonAndTheWorkerFiles()
    {
        Assert.Equal(File.ReadAllText(Path.Combine(Prerequisites.RepoRoot, "host.json")), File.ReadAllText(Path.Combine(Output, "host.json")));
        var worker = JsonDocument.Parse(File.ReadAllText(Path.Combine(Output, "worker.config.json"))).RootElement;
        Assert.Equal("dotnet", worker.GetProperty("description").GetProperty("defaultExecutablePath").GetString());
        Assert.Equal("RagFunctions.App.dll", worker.GetProperty("description").GetProperty("defaultWorkerPath").GetString());
        var extensions = File.ReadAllText(Path.Combine(Output, "extensions.json"));
        Assert.Contains("AzureStorageQueues", extensions, StringComparison.Ordinal);
    }

    [Fact]
    public void OutputShipsTheCorpus() =>
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(Output, "corpus"), "*.md", SearchOption.AllDirectories));

    [Theory]
    [InlineData("QueryFunction", "post", "query")]
    [InlineData("SubmitBatchFunction", "post", "batches")]
    [InlineData("BatchStatusFunction", "get", "batches/{id}")]
    public void HttpFunctionIsDeclaredWithItsRouteMethodAndFunctionKeyAuth(string name, string method, string route)
    {
        var trigger = Trigger(Function(name));

        Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(route, trigger.GetProperty("route").GetString());
        Assert.Equal([method], trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("Function", trigger.GetProperty("authLevel").GetString());
    }

    [Fact]
    public void HealthIsTheOnlyAnonymousFunctionAndAnswersGet()
    {
        var anonymous = AppBuildOutput.HttpFunctions().Where(f => f.AuthLevel != "Function").ToList();
        Assert.Equal([("HealthFunction", "Anonymous", "health")], anonymous);
        Assert.Equal(["get"], Trigger(Function("HealthFunction")).GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
    }

    [Theory]
    [InlineData("ProcessQueryMessage", "rag-queries")]
    [InlineData("RecordPoisonMessage", "rag-queries-poison")]
    public void QueueFunctionIsDeclaredOnItsQueue(string name, string queue)
    {
        var trigger = Trigger(Function(name));

        Assert.Equal("queueTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(queue, trigger.GetProperty("queueName").GetString());
    }

    [Fact]
    public void HostJsonSetsTheQueueBehaviourDeliberately()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(Output, "host.json")), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var queues = host.RootElement.GetProperty("extensions").GetProperty("queues");

        Assert.Equal(16, queues.GetProperty("batchSize").GetInt32());
        Assert.Equal(5, queues.GetProperty("maxDequeueCount").GetInt32());
        Assert.Equal("00:00:30", queues.GetProperty("visibilityTimeout").GetString());
        Assert.Equal("2.0", host.RootElement.GetProperty("version").GetString());
    }
}
