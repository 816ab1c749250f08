using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Generation.Extractive;
using RagFunctions.Core.Retrieval;
using RagFunctions.UnitTests.Retrieval;

namespace RagFunctions.UnitTests.Extractive;

public sealed partial class ExtractiveChatClientTests(ShippedCorpus corpus) : IClassFixture<ShippedCorpus>
{
    private static readonly Tokenizer O200k = TiktokenTokenizer.CreateForEncoding("o200k_base");

    private static readonly RetrievedPassage[] Passages =
    [
        new("doc-a#fix", "Doc A — Fix", "runbooks", "Restart the ledger deployment. Check the pushgateway is reachable.\n- Scale the batch workers to zero when the budget is exceeded.", 3f),
        new("doc-b", "Doc B", "operations", "Unrelated text about zebras. The daily budget resets at midnight UTC.\n```\nrag:spend_today_dollars\n```", 2f),
    ];

    [Fact]
    public void PromptBuilderProducesSystemThenUserWithOneContentPerPassageThenQuestion()
    {
        var messages = PromptBuilder.Build("why?", Passages);

        Assert.Equal([ChatRole.System, ChatRole.User], messages.Select(m => m.Role));
        Assert.Equal(PromptBuilder.SystemInstructions, messages[0].Text);
        var contents = messages[1].Contents.Cast<TextContent>().ToList();
        Assert.Equal(3, contents.Count);
        Assert.Equal("[1] Doc A — Fix\n" + Passages[0].Text, contents[0].Text);
        Assert.Equal("doc-a#fix", contents[0].AdditionalProperties![PromptBuilder.PassageIdProperty]);
        Assert.Equal("[2] Doc B\n" + Passages[1].Text, contents[1].Text);
        Assert.Equal("doc-b", contents[1].AdditionalProperties![PromptBuilder.PassageIdProperty]);
        Assert.Equal("Question: why?", contents[2].Text);
        Assert.Null(contents[2].AdditionalProperties);
    }

    [Fact]
    public async Task AnswersWithBestSentencesCitingTheirPassages()
    {
        using var client = new ExtractiveChatClient();

        var response = await client.GetResponseAsync(PromptBuilder.Build("What happens to the daily budget at midnight?", Passages));

        Assert.StartsWith("The daily budget resets at midnight UTC. [2]", response.Text, StringComparison.Ordinal);
        Assert.InRange(Citation().Matches(response.Text).Count, 2, 4);
        Assert.Equal(ExtractiveChatClient.ModelId, response.ModelId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
    }

    [Fact]
    public async Task CitesOnlyPassagesThatExist()
    {
        using var client = new ExtractiveChatClient();

        var response = await client.GetResponseAsync(PromptBuilder.Build("restart ledger pushgateway budget workers", Passages));

        var cited = Citation().Matches(response.Text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(cited);
        Assert.All(cited, n => Assert.InRange(n, 1, Passages.Length));
        Assert.Contains("Restart the ledger deployment. [1]", response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportsRealO200kTokenCounts()
    {
        using var client = new ExtractiveChatClient();
        var messages = PromptBuilder.Build("What happens to the daily budget at midnight?", Passages);

        var response = await client.GetResponseAsync(messages);

        var expectedInput = messages.SelectMany(m => m.Contents).OfType<TextContent>().Sum(c => O200k.CountTokens(c.Text));
        var expectedOutput = O200k.CountTokens(response.Text);
        Assert.Equal(expectedInput, response.Usage!.InputTokenCount);
        Assert.Equal(expectedOutput, response.Usage.OutputTokenCount);
        Assert.Equal(expectedInput + expectedOutput, response.Usage.TotalTokenCount);
        Assert.True(expectedInput > 100, "the system prompt and passages are well over 100 tokens");
    }

    [Fact]
    public async Task SaysItCannotFindTheAnswerGivenNoPassages()
    {
        using var client = new ExtractiveChatClient();
        var messages = PromptBuilder.Build("how do I bake bread?", []);

        var response = await client.GetResponseAsync(messages);

        Assert.Equal(ExtractiveChatClient.NoContextAnswer, response.Text);
        Assert.Equal(O200k.CountTokens(ExtractiveChatClient.NoContextAnswer), response.Usage!.OutputTokenCount);
        Assert.Equal(O200k.CountTokens(PromptBuilder.SystemInstructions) + O200k.CountTokens("Question: how do I bake bread?"), response.Usage.InputTokenCount);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task AnswersTheDailyBudgetQuestionFromTheShippedRunbook()
    {
        const string question = "what do I do when the daily budget alert fires?";
        using var client = new ExtractiveChatClient();
        var passages = corpus.Retriever.Retrieve(question, null, 4).Passages;

        var response = await client.GetResponseAsync(PromptBuilder.Build(question, passages));

        Assert.Contains("[1]", response.Text, StringComparison.Ordinal);
        Assert.Contains("daily budget", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(ExtractiveChatClient.NoContextAnswer, response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IsDeterministic()
    {
        using var client = new ExtractiveChatClient();
        var messages = PromptBuilder.Build("budget pushgateway", Passages);

        var first = await client.GetResponseAsync(messages);
        var second = await client.GetResponseAsync(messages);

        Assert.Equal(first.Text, second.Text);
    }

    [Fact]
    public async Task StreamsTheWholeResponseAsOneUpdate()
    {
        using var client = new ExtractiveChatClient();
        var messages = PromptBuilder.Build("What happens to the daily budget at midnight?", Passages);
        var expected = await client.GetResponseAsync(messages);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(messages))
        {
            updates.Add(update);
        }

        var update1 = Assert.Single(updates);
        Assert.Equal(expected.Text, update1.Text);
        Assert.Equal(ExtractiveChatClient.ModelId, update1.ModelId);
        Assert.Equal(ChatFinishReason.Stop, update1.FinishReason);
        var usage = Assert.Single(update1.Contents.OfType<UsageContent>());
        Assert.Equal(expected.Usage!.TotalTokenCount, usage.Details.TotalTokenCount);
    }

    [Fact]
    public void ExposesItsModelIdAsMetadata()
    {
        using var client = new ExtractiveChatClient();

        var metadata = client.GetService<ChatClientMetadata>();

        Assert.Equal(ExtractiveChatClient.ModelId, metadata!.DefaultModelId);
        Assert.Same(client, client.GetService<ExtractiveChatClient>());
    }

    [GeneratedRegex(@"\[(\d+)\]")]
    private static partial Regex Citation();
}
