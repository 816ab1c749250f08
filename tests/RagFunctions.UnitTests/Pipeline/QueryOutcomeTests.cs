using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.AI;
using RagFunctions.Core;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Input;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pipeline;
using RagFunctions.Tests.Shared;
using RagFunctions.UnitTests.Composition;

namespace RagFunctions.UnitTests.Pipeline;

/// <summary>The pipeline settles each query once, with the outcome its failure classifies as, through the real composition.</summary>
public sealed class QueryOutcomeTests
{
    private const string Model = "amazon.nova-lite-v1:0";

    // The last registration wins: the model answers through the IChatClient adapter, labelled with the configured id.
    private static ServiceProvider Compose(IChatClient model)
    {
        var configuration = TestConfiguration.From(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["Rag:CorpusPath"] = Path.Combine(AppContext.BaseDirectory, "corpus"),
        }, []);
        var services = new ServiceCollection().AddLogging();
        services.AddRagPipeline(configuration);
        services.AddSingleton<IAnswerGenerator>(new ChatClientAnswerGenerator(model, Model));
        return services.BuildServiceProvider();
    }

    private static async Task<string> RequestsAsync(ServiceProvider services)
    {
        using var stream = new MemoryStream();
        await services.GetRequiredService<RagMetrics>().Registry.CollectAndExportAsTextAsync(stream);
        return string.Join('\n', Encoding.UTF8.GetString(stream.ToArray()).Split('\n')
            .Where(line => line.StartsWith("rag_requests_total{", StringComparison.Ordinal) && !line.EndsWith(" 0", StringComparison.Ordinal)));
    }

    private static Func<CancellationToken, Task<RagQuery>> Read(string question) => _ => Task.FromResult(new RagQuery(question, null));

    [Fact]
    public async Task AnAnsweredQueryCountsOnceAsSuccessOfItsOrigin()
    {
        await using var services = Compose(new FakeModel(Model, "Restart it [1].", input: 10, output: 5));
        var pipeline = services.GetRequiredService<RagPipeline>();

        var answer = await pipeline.AnswerAsync(QueryOrigin.Http, "default", Read("How do I restart the ledger?"), CancellationToken.None);

        Assert.Equal(new TokenUsage(10, 5, 0, 0), answer.Usage);
        Assert.Equal("rag_requests_total{trigger=\"http\",outcome=\"success\",tenant=\"default\",environment=\"local\"} 1", await RequestsAsync(services));
    }

    [Fact]
    public async Task ARejectedBodyCountsOnceAsInvalidWithoutReachingTheModel()
    {
        await using var services = Compose(FakeModel.Failing(new InvalidOperationException("the model must not be called")));
        var pipeline = services.GetRequiredService<RagPipeline>();

        await Assert.ThrowsAsync<InvalidRequestException>(() => pipeline.AnswerAsync(
            QueryOrigin.Http, "default", _ => throw InvalidRequestException.For("$", "Malformed JSON."), CancellationToken.None));

        Assert.Equal("rag_requests_total{trigger=\"http\",outcome=\"invalid\",tenant=\"default\",environment=\"local\"} 1", await RequestsAsync(services));
    }

    [Fact]
    public async Task AThrottledModelCountsOnceAsThrottled()
    {
        await using var services = Compose(FakeModel.Failing(new Core.Generation.Bedrock.BedrockException(LlmErrorKind.Throttling, "slow down")));
        var pipeline = services.GetRequiredService<RagPipeline>();

        await Assert.ThrowsAsync<ModelCallFailedException>(() => pipeline.AnswerAsync(QueryOrigin.Http, "default", Read("Why is it slow?"), CancellationToken.None));

        Assert.Equal("rag_requests_total{trigger=\"http\",outcome=\"throttled\",tenant=\"default\",environment=\"local\"} 1", await RequestsAsync(services));
    }

    [Fact]
    public void AnExhaustedBudgetIsItsOwnOutcomeNotAnError()
    {
        var refused = new BudgetExhaustedException(new BudgetExhausted("acme", BudgetOptions.AllTenants, BudgetWindow.Monthly, DateTimeOffset.UnixEpoch));

        Assert.Equal(QueryOutcome.BudgetExhausted, RagPipeline.OutcomeOf(refused));
        Assert.Equal("budget_exhausted", QueryOutcome.BudgetExhausted.LabelValue());
    }

    [Fact]
    public async Task AnAdmittedBatchCountsNothingUntilItsQuestionsSettleAndARejectedOneCountsOnce()
    {
        await using var services = Compose(new FakeModel(Model, "answer", 1, 1));
        var pipeline = services.GetRequiredService<RagPipeline>();

        Assert.Equal(3, await pipeline.AdmitAsync(QueryOrigin.Http, "default", _ => Task.FromResult(3), CancellationToken.None));
        Assert.Equal(string.Empty, await RequestsAsync(services));

        await Assert.ThrowsAsync<InvalidRequestException>(() => pipeline.AdmitAsync<int>(
            QueryOrigin.Http, "default", _ => throw InvalidRequestException.For("questions", "'questions' must be a non-empty array of strings."), CancellationToken.None));
        pipeline.Poisoned(QueryOrigin.Queue, "default");

        Assert.Equal(
            "rag_requests_total{trigger=\"http\",outcome=\"invalid\",tenant=\"default\",environment=\"local\"} 1\n"
            + "rag_requests_total{trigger=\"queue\",outcome=\"unavailable\",tenant=\"default\",environment=\"local\"} 1",
            await RequestsAsync(services));
    }
}
